"""Status, push and pull between the vault and one remote.

Per item and remote the vault keeps the upstream version last seen and a digest of the local item
then (`vault.remotes.marks`). With the upstream's live versions that gives the state of each item:

    local changed?  upstream changed?   state
    no              no                  in_sync
    yes             no                  local_ahead
    no              yes                 upstream_ahead
    yes             yes                 conflict         (also: both exist, never synced)
    only local / only upstream          local_only / upstream_only

Push writes with cas = the version last seen (0 for new), so the server refuses a write over a
newer version; pull validates every item as an import does and stores it in its own savepoint,
so a refused item changes nothing and the rest goes on.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from knoxtui.errors import Conflict, KnoxError, NotFound
from knoxtui.remote import layout
from knoxtui.remote.client import MAX_CONCURRENCY, BaoClient, bounded_map, chunks
from knoxtui.remote.errors import CasMismatch, RemoteUnreachable
from knoxtui.routes.route import Route
from knoxtui.vault.models import CertificateValue

if TYPE_CHECKING:
    from knoxtui.vault import Vault
    from knoxtui.vault.remotes import RemoteRecord, SyncMark

STATES = ("in_sync", "local_ahead", "upstream_ahead", "conflict", "local_only", "upstream_only")
# Pull order: what others refer to first (CA bundles, certificates), routes last.
_TYPE_ORDER = {"string": 0, "certificate": 1, "oauth2": 2}


@dataclass(frozen=True)
class ItemStatus:
    name: str
    kind: str  # secret | route
    state: str
    local_version: int | None  # the upstream version the local copy is based on
    upstream_version: int | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "state": self.state,
            "local_version": self.local_version,
            "upstream_version": self.upstream_version,
        }


@dataclass(frozen=True)
class Outcome:
    """What happened to one item in a push or pull."""

    name: str
    kind: str
    action: str  # pushed | pulled | unchanged | refused
    version: int | None = None
    message: str | None = None
    hint: str | None = None
    code: str | None = None

    @property
    def refused(self) -> bool:
        return self.action == "refused"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "action": self.action,
            "version": self.version,
            "message": self.message,
            "code": self.code,
        }


def classify(local_digest: str | None, mark: SyncMark | None, upstream: int | None) -> str:
    if local_digest is None:
        return "upstream_only"
    if upstream is None:
        return "local_only"
    if mark is None:
        return "conflict"  # both sides made it without ever syncing
    local_changed = local_digest != mark.local_digest
    upstream_changed = upstream != mark.upstream_version
    if local_changed and upstream_changed:
        return "conflict"
    if local_changed:
        return "local_ahead"
    return "upstream_ahead" if upstream_changed else "in_sync"


def _kind_label(kind: str) -> str:
    return "Secret" if kind == "secret" else "Route"


def status(vault: Vault, remote: RemoteRecord, client: BaoClient) -> list[ItemStatus]:
    """Every item here or upstream, with its state; sorted by kind (secrets first), then name."""
    marks = vault.remotes.marks(remote.name)
    out: list[ItemStatus] = []
    for kind in layout.KINDS:
        upstream = client.kv_versions(remote.kv_mount, layout.folder(remote.prefix, kind))
        digests = vault.remotes.digests(kind)
        for name in sorted(set(upstream) | set(digests)):
            mark = marks.get((kind, name))
            state = classify(digests.get(name), mark, upstream.get(name))
            local_version = mark.upstream_version if mark and name in digests else None
            out.append(ItemStatus(name, kind, state, local_version, upstream.get(name)))
    return out


def _selection(vault: Vault, items: Iterable[str]) -> list[tuple[str, str]]:
    """Names on the command line: a secret, else a route (a name that is both means both)."""
    chosen: list[tuple[str, str]] = []
    secrets = vault.remotes.digests("secret", list(items))
    routes = vault.remotes.digests("route", list(items))
    for name in items:
        if name in secrets:
            chosen.append(("secret", name))
        if name in routes:
            chosen.append(("route", name))
        if name not in secrets and name not in routes:
            chosen.append(("", name))
    return chosen


# ---------------------------------------------------------------------- push


def push(
    vault: Vault,
    remote: RemoteRecord,
    client: BaoClient,
    items: list[str] | None = None,
    *,
    ours: bool = False,
    workers: int = MAX_CONCURRENCY,
) -> list[Outcome]:
    """Push the named items (or, with None, every local item that changed since its last sync
    or was never pushed). Each write uses check-and-set; a refused one leaves upstream intact.

    `ours` (named items only, after the user has seen the conflict): write the local copy over
    the upstream's. The cas is the upstream's current version read just before the write, so a
    third writer in between is still refused; the audit row names the version overwritten."""
    if ours and items is None:
        raise ValueError("push ours takes named items")
    marks = vault.remotes.marks(remote.name)
    digests = {kind: vault.remotes.digests(kind) for kind in layout.KINDS}
    outcomes: list[Outcome] = []
    todo: list[tuple[str, str]] = []
    chosen = (
        _selection(vault, items)
        if items is not None
        else [(kind, name) for kind in layout.KINDS for name in sorted(digests[kind])]
    )
    for kind, name in chosen:
        if not kind:
            outcomes.append(
                Outcome(
                    name,
                    "secret",
                    "refused",
                    message=f"There is no secret or route named '{name}' in this vault.",
                    code="not_found",
                )
            )
            continue
        mark = marks.get((kind, name))
        if mark is not None and mark.local_digest == digests[kind][name] and not ours:
            if items is not None:
                outcomes.append(Outcome(name, kind, "unchanged", mark.upstream_version))
            continue
        todo.append((kind, name))

    def document(kind: str, name: str) -> dict[str, Any]:
        if kind == "route":
            return dict(vault.get_route(name).config)
        material = vault.remotes.secret_material(name)
        return layout.secret_document(material.secret_type, material.description, material.values)

    lost: list[KnoxError] = []  # the server went away: stop sending, keep what was written

    overwrote: dict[tuple[str, str], int] = {}  # ours: the upstream version each one replaced

    def send(job: tuple[str, str, dict[str, Any], int]) -> Outcome:
        kind, name, data, cas = job
        path = layout.item_path(remote.prefix, kind, name)
        if lost:
            return Outcome(name, kind, "refused", message=f"'{name}' not sent.", code="not_sent")
        try:
            if ours:
                cas = client.kv_current_version(remote.kv_mount, path) or 0
                mark = marks.get((kind, name))
                if (
                    mark is not None
                    and mark.local_digest == digests[kind][name]
                    and mark.upstream_version == cas
                ):
                    return Outcome(name, kind, "unchanged", cas)
            version = client.kv_write(remote.kv_mount, path, data, cas=cas)
        except RemoteUnreachable as exc:
            lost.append(exc)
            return Outcome(name, kind, "refused", message=exc.message, code=exc.code)
        except CasMismatch:
            upstream = client.kv_current_version(remote.kv_mount, path)
            seen = f"you last saw version {cas}" if cas else "you never pulled it"
            return Outcome(
                name,
                kind,
                "refused",
                upstream,
                message=f"{_kind_label(kind)} '{name}' has a newer version on remote "
                f"'{remote.name}' (version {upstream}; {seen}); nothing was written.",
                hint=_conflict_way_out(name, remote.name),
                code="cas_mismatch",
            )
        if ours and cas:
            overwrote[(kind, name)] = cas
        return Outcome(name, kind, "pushed", version)

    sent: list[Outcome] = []
    for batch in chunks(todo, _CHUNK):  # documents held for one chunk at a time
        jobs = []
        for kind, name in batch:
            mark = marks.get((kind, name))
            jobs.append((kind, name, document(kind, name), mark.upstream_version if mark else 0))
        results = bounded_map(send, jobs, workers)
        with vault.batch():
            for kind in layout.KINDS:
                pushed = [
                    (r.name, r.version or 0)
                    for r in results
                    if r.action == "pushed" and r.kind == kind
                ]
                vault.remotes.mark_many(
                    remote.name,
                    kind,
                    pushed,
                    operation="push",
                    overwrote={n: v for (k, n), v in overwrote.items() if k == kind},
                )
        sent.extend(results)
        if lost:
            # What was written is marked above; the rest waits for the server (exit 2).
            raise lost[0]
    return outcomes + sent


def _conflict_way_out(name: str, remote: str) -> str:
    """Changed here and upstream: a plain pull is refused as well, so say both real ways."""
    return (
        f"Keep the remote's copy: knoxtui pull {name} --remote {remote} --theirs; or keep "
        f"yours over it: knoxtui push {name} --remote {remote} --ours."
    )


# ---------------------------------------------------------------------- pull


def pull(
    vault: Vault,
    remote: RemoteRecord,
    client: BaoClient,
    items: list[str] | None = None,
    *,
    theirs: bool = False,
    workers: int = MAX_CONCURRENCY,
) -> list[Outcome]:
    """Pull the named items (or every item that changed upstream). A conflict is refused unless
    `theirs`; each pulled item is validated like an import and stored in its own savepoint."""
    marks = vault.remotes.marks(remote.name)
    outcomes: list[Outcome] = []
    wanted: list[tuple[str, str]] = []
    seen: set[str] = set()
    for kind in layout.KINDS:
        upstream = client.kv_versions(remote.kv_mount, layout.folder(remote.prefix, kind))
        digests = vault.remotes.digests(kind)
        names = sorted(upstream) if items is None else [n for n in items if n in upstream]
        for name in names:
            mark = marks.get((kind, name))
            state = classify(digests.get(name), mark, upstream.get(name))
            if state in ("upstream_ahead", "upstream_only") or (state == "conflict" and theirs):
                wanted.append((kind, name))
            elif state == "conflict":
                outcomes.append(
                    Outcome(
                        name,
                        kind,
                        "refused",
                        upstream.get(name),
                        message=f"{_kind_label(kind)} '{name}' changed here and on remote "
                        f"'{remote.name}' (version {upstream.get(name)}); the local copy was "
                        "kept.",
                        hint=_conflict_way_out(name, remote.name),
                        code="conflict",
                    )
                )
            elif items is not None:
                outcomes.append(Outcome(name, kind, "unchanged", upstream.get(name)))
        seen.update(upstream)
    for name in items or ():
        if name not in seen:
            outcomes.append(
                Outcome(
                    name,
                    "secret",
                    "refused",
                    message=f"Remote '{remote.name}' has no secret or route named '{name}'.",
                    hint=f"knoxtui remote status {remote.name} lists what it holds.",
                    code="not_found",
                )
            )

    local = {kind: set(vault.remotes.digests(kind)) for kind in layout.KINDS}
    stored: list[Outcome] = []

    def fetch(job: tuple[str, str]) -> _Fetched:
        """Read one item and check its shape (in a worker, overlapping the other requests)."""
        kind, name = job
        entry = client.kv_read(remote.kv_mount, layout.item_path(remote.prefix, kind, name))
        if entry is None:
            return _Fetched(kind, name, None, None, None)  # deleted since the listing
        try:
            if kind == "secret":
                secret = layout.parse_secret(name, entry.data)
                return _Fetched(kind, name, entry.version, secret, None)
            config = layout.parse_route(name, entry.data)
            Route.from_config(name, config)  # the checks of `route add`, then the vault's
            return _Fetched(kind, name, entry.version, config, None)
        except KnoxError as exc:
            return _Fetched(kind, name, entry.version, None, exc)

    def store(item: _Fetched) -> None:
        assert item.version is not None
        if item.error is not None:
            outcomes.append(_refusal(remote, item.kind, item.name, item.version, item.error))
            return
        try:
            with vault.transaction():
                if item.kind == "secret":
                    # Certificates are read and judged here, not in the workers: CPU-bound
                    # threads would hold the GIL against this thread's many short SQL calls.
                    checked = _checked(remote, item.value)
                    exists = item.name in local["secret"]
                    _store_secret(vault, checked, theirs=theirs, exists=exists)
                else:
                    vault.save_route(item.name, item.value, replace=True)
        except KnoxError as exc:
            outcomes.append(_refusal(remote, item.kind, item.name, item.version, exc))
            return
        stored.append(Outcome(item.name, item.kind, "pulled", item.version))

    def mark_stored() -> None:
        """In the chunk's transaction: the marks of what it stored (one digest query)."""
        for kind in layout.KINDS:
            done = [(o.name, o.version or 0) for o in stored if o.kind == kind]
            vault.remotes.mark_many(remote.name, kind, done, operation="pull")
        outcomes.extend(stored)
        stored.clear()

    # A pipeline: the workers fetch and check chunk k+1 while this thread stores chunk k, one
    # transaction per chunk. What refers to other items (oauth2 secrets, routes) is stored last.
    later: list[_Fetched] = []
    batches = list(chunks(wanted, _CHUNK))
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(wanted)))) as pool:
        running = [pool.submit(fetch, job) for job in batches[0]] if batches else []
        for index in range(len(batches)):
            done = [future.result() for future in running]
            if index + 1 < len(batches):
                running = [pool.submit(fetch, job) for job in batches[index + 1]]
            now = [i for i in done if i.version is not None and not _refers(i)]
            later.extend(i for i in done if i.version is not None and _refers(i))
            now.sort(key=lambda i: _TYPE_ORDER.get(getattr(i.value, "secret_type", ""), 0))
            with vault.batch():
                for item in now:
                    store(item)
                mark_stored()
    later.sort(key=lambda i: (i.kind == "route", i.name))
    for start in range(0, len(later), _CHUNK):
        with vault.batch():
            for item in later[start : start + _CHUNK]:
                store(item)
            mark_stored()
    return outcomes


_CHUNK = 250


@dataclass(frozen=True)
class _Fetched:
    kind: str
    name: str
    version: int | None
    value: Any  # a layout.UpstreamSecret or a route config
    error: KnoxError | None


@dataclass(frozen=True)
class _CheckedSecret:
    """An upstream secret with its certificates already read and judged by pki."""

    secret: Any  # layout.UpstreamSecret
    bundles: dict[str, Any]  # env -> CertificateBundle

    @property
    def secret_type(self) -> str:
        return str(self.secret.secret_type)


def _refers(item: _Fetched) -> bool:
    return item.kind == "route" or getattr(item.value, "secret_type", "") == "oauth2"


def _checked(remote: RemoteRecord, secret: Any) -> _CheckedSecret:
    from knoxtui.pki import load_bundle

    bundles = {}
    if secret.secret_type == "certificate":
        for env, value in secret.values.items():
            bundles[env] = load_bundle(
                value.chain_pem,
                key_data=value.key_pem,
                passphrase=value.key_passphrase,
                source=f"remote '{remote.name}' secret '{secret.name}' ({env})",
                require_key=True,
            )
    return _CheckedSecret(secret, bundles)


def _refusal(
    remote: RemoteRecord, kind: str, name: str, version: int | None, exc: KnoxError
) -> Outcome:
    said = exc.message.removeprefix(f"{_kind_label(kind)} '{name}' upstream: ")
    return Outcome(
        name,
        kind,
        "refused",
        version,
        message=f"{_kind_label(kind)} '{name}' from remote '{remote.name}' (version {version}) "
        f"was refused: {said}",
        hint=exc.hint,
        code=exc.code,
    )


def _store_secret(vault: Vault, checked: _CheckedSecret, *, theirs: bool, exists: bool) -> None:
    secret = checked.secret
    name = secret.name
    existing = None
    if exists:
        try:
            existing = vault.get_secret(name)
        except NotFound:
            existing = None
    if existing is not None and existing.secret_type != secret.secret_type:
        if not theirs:
            raise Conflict(
                f"it is a {secret.secret_type} secret upstream but a {existing.secret_type} "
                "secret here; nothing was changed.",
                hint="Pull with --theirs to replace the local one, or rename it first.",
            )
        vault.remove_secret(name, force=True)
        existing = None
    for env, value in sorted(secret.values.items()):
        if secret.secret_type == "certificate":
            assert isinstance(value, CertificateValue)
            vault.add_certificate(
                name,
                checked.bundles[env],
                environment=env,
                description=secret.description,
                key_passphrase=value.key_passphrase,
                replace=True,
            )
        elif secret.secret_type == "string":
            vault.add_string(
                name, value, environment=env, description=secret.description, replace=True
            )
        else:
            vault.add_oauth2(
                name, value, environment=env, description=secret.description, replace=True
            )
    if existing is not None:
        for env in existing.environments:
            if env not in secret.values:
                vault.remove_value(name, env, force=True)
