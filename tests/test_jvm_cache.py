"""The class-data-sharing archive options of local sessions (no JVM started here)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from speedrun.edges import jvm_cache
from speedrun.edges.jvm_cache import archive_options, supports_dynamic_archive


@pytest.fixture
def java17(monkeypatch):
    monkeypatch.delenv("SPEEDRUN_CDS", raising=False)
    monkeypatch.setattr(jvm_cache, "java_version", lambda: 'openjdk version "17.0.9" 2023-10-17')


def test_java_versions_with_dynamic_archives():
    assert supports_dynamic_archive('openjdk version "17.0.9" 2023-10-17')
    assert supports_dynamic_archive('java version "21" 2023-09-19 LTS')
    assert not supports_dynamic_archive('openjdk version "11.0.2" 2019-01-15')
    assert not supports_dynamic_archive(None)


def test_first_session_writes_the_archive_at_exit(tmp_path, java17):
    # GIVEN no archive yet WHEN a session's options are made THEN its JVM writes one, under a temporary name
    options = archive_options("jars", tmp_path)
    assert options[0].startswith(f"-XX:ArchiveClassesAtExit={tmp_path}/")
    assert options[0].endswith(f".{os.getpid()}.writing")


def test_finished_archive_is_adopted_and_mapped(tmp_path, java17):
    # GIVEN an archive written by an earlier session, settled
    written = archive_options("jars", tmp_path)[0].split("=", 1)[1]
    with open(written, "wb") as out:
        out.write(b"archive")
    settled = time.time() - jvm_cache.SETTLED_SECONDS - 1
    os.utime(written, (settled, settled))
    # WHEN the next session's options are made THEN it maps the archive under its final name
    options = archive_options("jars", tmp_path)
    assert options[0] == f"-XX:SharedArchiveFile={written.rsplit('.', 2)[0]}.jsa"
    # AND other jars get their own archive
    assert archive_options("other jars", tmp_path)[0].startswith("-XX:ArchiveClassesAtExit=")


def test_archive_being_written_is_left_alone(tmp_path, java17):
    # GIVEN a session writing the archive right now WHEN another starts THEN it neither maps nor writes one
    written = archive_options("jars", tmp_path)[0].split("=", 1)[1]
    with open(written, "wb") as out:
        out.write(b"half")
    assert archive_options("jars", tmp_path) == []


def test_turned_off(tmp_path, java17, monkeypatch):
    monkeypatch.setenv("SPEEDRUN_CDS", "0")
    assert archive_options("jars", tmp_path) == []


def test_only_the_most_recent_archives_are_kept(tmp_path, java17):
    # GIVEN archives of four earlier installs, oldest first
    for age, name in enumerate(["d", "c", "b", "a"]):
        archive = tmp_path / f"{name}.jsa"
        archive.write_bytes(b"archive")
        os.utime(archive, (time.time() - 1000 * (age + 1),) * 2)
    # WHEN a new archive is adopted
    written = archive_options("jars", tmp_path)[0].split("=", 1)[1]
    with open(written, "wb") as out:
        out.write(b"archive")
    settled = time.time() - jvm_cache.SETTLED_SECONDS - 1
    os.utime(written, (settled, settled))
    archive_options("jars", tmp_path)
    # THEN it and the two most recent others remain
    assert sorted(p.name for p in tmp_path.glob("*.jsa")) == sorted(
        [Path(written).name.split(".")[0] + ".jsa", "d.jsa", "c.jsa"]
    )


def test_an_empty_archive_abandoned_long_ago_is_written_again(tmp_path, java17):
    # GIVEN an empty archive file left by a JVM that died an hour ago
    written = archive_options("jars", tmp_path)[0].split("=", 1)[1]
    open(written, "wb").close()
    abandoned = time.time() - jvm_cache.ABANDONED_SECONDS - 1
    os.utime(written, (abandoned, abandoned))
    # WHEN the next session starts THEN it writes the archive itself
    assert archive_options("jars", tmp_path)[0].startswith("-XX:ArchiveClassesAtExit=")
    assert not Path(written).exists()


def test_archives_of_other_installs_never_adopted_are_deleted(tmp_path, java17):
    # GIVEN an archive another install wrote two hours ago and never started a session again to adopt,
    # and one an install is writing right now
    forgotten, current = tmp_path / "other.4242.writing", tmp_path / "busy.4343.writing"
    for written in (forgotten, current):
        written.write_bytes(b"archive")
    long_ago = time.time() - 2 * jvm_cache.ABANDONED_SECONDS
    os.utime(forgotten, (long_ago, long_ago))
    # WHEN this install adopts its own archive
    written = archive_options("jars", tmp_path)[0].split("=", 1)[1]
    Path(written).write_bytes(b"archive")
    settled = time.time() - jvm_cache.SETTLED_SECONDS - 1
    os.utime(written, (settled, settled))
    archive_options("jars", tmp_path)
    # THEN the forgotten one is deleted, the one being written is not
    adopted = Path(written).name.split(".")[0] + ".jsa"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([adopted, current.name])


def test_an_archive_its_writer_is_known_to_have_finished_is_mapped_at_once(tmp_path, java17):
    # GIVEN the archive the warm-up's JVM wrote as it exited (waited for), not yet settled
    written = jvm_cache.writing_archive("jars", tmp_path)
    assert archive_options("jars", tmp_path)[0] == f"-XX:ArchiveClassesAtExit={written}"
    written.write_bytes(b"archive")
    # WHEN it is adopted THEN the next session maps it, with no wait for it to settle
    archive = jvm_cache.adopt(written)
    assert archive == written.with_name(written.name.split(".")[0] + ".jsa") and not written.exists()
    assert archive_options("jars", tmp_path)[0] == f"-XX:SharedArchiveFile={archive}"
    # AND a JVM that wrote nothing leaves nothing to adopt
    assert jvm_cache.adopt(tmp_path / "other.123.writing") is None


def test_the_archive_is_the_same_whether_delta_came_as_packages_or_from_the_ivy_cache(monkeypatch, tmp_path):
    # GIVEN a machine whose first session resolves Delta as packages, and later ones load the jars it resolved
    from speedrun.edges import local_session

    monkeypatch.setattr(local_session, "IVY_JARS", tmp_path)
    first = local_session.classpath_key()
    for artifact in ("delta-spark_2.13", "delta-storage"):
        (tmp_path / f"io.delta_{artifact}-{local_session.delta_version()}.jar").write_bytes(b"")
    # THEN both map the one archive the first (or the install's warm-up) wrote
    assert local_session.classpath_key() == first
