"""The two places batch files are dropped: an SFTP server, or a directory both sides watch.

Both offer the same few file operations, so the batch transport does not care which one it
has. Files are written under a temporary name and renamed, so the far side never picks up half
a file; names are checked to be plain file names, so a name taken from the far side's listing
cannot climb out of its folder.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Protocol, TypeVar

import asyncssh

from connectors.errors import AuthError, ConnectorError, PermanentError, TransientError
from connectors.secrets import SecretUnavailableError
from connectors.x12_clearinghouse.config import SftpConfig

PARTIAL_SUFFIX = ".part"
T = TypeVar("T")


class FileDrop(Protocol):
    async def check(self, folders: tuple[str, ...]) -> None: ...
    async def put(self, folder: str, name: str, data: bytes) -> None: ...
    async def get(self, folder: str, name: str) -> bytes | None: ...
    async def names(self, folder: str) -> list[str]: ...
    async def remove(self, folder: str, name: str) -> None: ...
    async def aclose(self) -> None: ...


def _plain(name: str) -> str:
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name:
        raise PermanentError("a batch file name must be a plain file name")
    return name


class DirectoryDrop:
    def __init__(self, root: Path) -> None:
        self._root = root

    def _path(self, folder: str, name: str | None = None) -> Path:
        path = self._root / _plain(folder)
        return path if name is None else path / _plain(name)

    async def check(self, folders: tuple[str, ...]) -> None:
        for folder in folders:
            if not await asyncio.to_thread(self._path(folder).is_dir):
                raise PermanentError(f"the batch folder {folder} does not exist")

    async def put(self, folder: str, name: str, data: bytes) -> None:
        target = self._path(folder, name)
        partial = target.with_name(target.name + PARTIAL_SUFFIX)

        def write() -> None:
            with partial.open("wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            partial.replace(target)

        try:
            await asyncio.to_thread(write)
        except OSError as exc:
            raise TransientError(
                f"the batch file could not be written: {type(exc).__name__}"
            ) from None

    async def get(self, folder: str, name: str) -> bytes | None:
        try:
            return await asyncio.to_thread(self._path(folder, name).read_bytes)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise TransientError(
                f"the batch file could not be read: {type(exc).__name__}"
            ) from None

    async def names(self, folder: str) -> list[str]:
        def listing() -> list[str]:
            return sorted(
                p.name
                for p in self._path(folder).iterdir()
                if p.is_file() and not p.name.endswith(PARTIAL_SUFFIX)
            )

        try:
            return await asyncio.to_thread(listing)
        except OSError as exc:
            raise TransientError(
                f"the batch folder could not be listed: {type(exc).__name__}"
            ) from None

    async def remove(self, folder: str, name: str) -> None:
        await asyncio.to_thread(self._path(folder, name).unlink, True)

    async def aclose(self) -> None:
        return None


class SftpDrop:
    """One SSH connection, opened on first use and again after it breaks."""

    def __init__(self, config: SftpConfig, *, timeout_seconds: float) -> None:
        self._config = config
        self._timeout = timeout_seconds
        self._connection: asyncssh.SSHClientConnection | None = None
        self._sftp: asyncssh.SFTPClient | None = None
        self._lock = asyncio.Lock()

    async def _client(self) -> asyncssh.SFTPClient:
        async with self._lock:
            if self._sftp is None:
                self._connection, self._sftp = await self._connect()
            return self._sftp

    async def _connect(self) -> tuple[asyncssh.SSHClientConnection, asyncssh.SFTPClient]:
        config = self._config
        try:
            password = config.password.resolve() if config.password else None
            keys = []
            if config.private_key is not None:
                keys.append(asyncssh.import_private_key(config.private_key.resolve()))
        except SecretUnavailableError as exc:
            raise AuthError(str(exc)) from None
        except (asyncssh.KeyImportError, ValueError):
            raise AuthError("the SFTP private key cannot be loaded") from None
        if config.host_key is not None:
            try:
                pinned = asyncssh.import_public_key(config.host_key)
            except (asyncssh.KeyImportError, ValueError):
                raise PermanentError("sftp host_key is not an OpenSSH public key") from None
            known_hosts: object = ([pinned], [], [])
        else:
            known_hosts = str(config.known_hosts)
        try:
            connection = await asyncio.wait_for(
                asyncssh.connect(
                    config.host,
                    config.port,
                    username=config.username,
                    password=password,
                    client_keys=keys or None,
                    known_hosts=known_hosts,
                    agent_path=None,
                    config=[],
                    preferred_auth="publickey,password",
                ),
                self._timeout,
            )
            return connection, await connection.start_sftp_client()
        except asyncssh.PermissionDenied:
            raise AuthError("the SFTP server refused the credentials") from None
        except asyncssh.HostKeyNotVerifiable:
            raise AuthError("the SFTP server's host key is not the trusted one") from None
        except (TimeoutError, OSError, asyncssh.Error) as exc:
            raise TransientError(f"SFTP connection failed: {type(exc).__name__}") from None

    async def _run(self, what: str, operation: Callable[[asyncssh.SFTPClient], Awaitable[T]]) -> T:
        client = await self._client()
        try:
            return await asyncio.wait_for(operation(client), self._timeout)
        except ConnectorError:
            raise
        except asyncssh.SFTPNoSuchFile:
            raise PermanentError(f"SFTP {what}: no such file or folder") from None
        except asyncssh.SFTPPermissionDenied:
            raise AuthError(f"SFTP {what}: permission denied") from None
        except (TimeoutError, OSError, asyncssh.Error) as exc:
            await self._drop()
            raise TransientError(f"SFTP {what} failed: {type(exc).__name__}") from None

    async def check(self, folders: tuple[str, ...]) -> None:
        for folder in folders:
            path = _plain(folder)

            async def is_folder(client: asyncssh.SFTPClient, path: str = path) -> bool:
                return bool(await client.isdir(path))

            if not await self._run("check", is_folder):
                raise PermanentError(f"the batch folder {folder} does not exist")

    async def put(self, folder: str, name: str, data: bytes) -> None:
        target = f"{_plain(folder)}/{_plain(name)}"
        partial = target + PARTIAL_SUFFIX

        async def upload(client: asyncssh.SFTPClient) -> None:
            async with client.open(partial, "wb") as handle:
                await handle.write(data)
            await client.posix_rename(partial, target)

        await self._run("upload", upload)

    async def get(self, folder: str, name: str) -> bytes | None:
        path = f"{_plain(folder)}/{_plain(name)}"

        async def download(client: asyncssh.SFTPClient) -> bytes | None:
            try:
                async with client.open(path, "rb") as handle:
                    data = await handle.read()
            except asyncssh.SFTPNoSuchFile:
                return None
            return data if isinstance(data, bytes) else data.encode("latin-1")

        return await self._run("download", download)

    async def names(self, folder: str) -> list[str]:
        async def listing(client: asyncssh.SFTPClient) -> list[str]:
            found = await client.listdir(_plain(folder))
            return sorted(
                str(n)
                for n in found
                if str(n) not in (".", "..") and not str(n).endswith(PARTIAL_SUFFIX)
            )

        return await self._run("listing", listing)

    async def remove(self, folder: str, name: str) -> None:
        path = f"{_plain(folder)}/{_plain(name)}"

        async def delete(client: asyncssh.SFTPClient) -> None:
            try:
                await client.remove(path)
            except asyncssh.SFTPNoSuchFile:
                return

        await self._run("remove", delete)

    async def _drop(self) -> None:
        connection, self._connection, self._sftp = self._connection, None, None
        if connection is not None:
            connection.close()
            await connection.wait_closed()

    async def aclose(self) -> None:
        async with self._lock:
            await self._drop()
