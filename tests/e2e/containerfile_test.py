"""deploy/Containerfile, checked without a container engine (none runs here): its runtime stage
must install the Debian package of every library the built qsplitd and qsplit load, its build
stage every library package the build needs, and the build it runs (no tests, no benchmarks)
must configure and have both programs as targets."""
import os
import re
import subprocess
import tempfile
import unittest

import harness as h

CONTAINERFILE = os.path.join(h.SOURCE, "deploy/Containerfile")
# In debian:12-slim already (apt itself needs them).
BASE = {"libc6", "libgcc-s1", "libstdc++6"}
# What a sanitized build (make test's second pass) loads besides; the image's build is not.
SANITIZERS = {"libasan8", "libubsan1", "liblsan0"}


def sanitized():
    cache = os.path.join(h.BUILD, "CMakeCache.txt")
    return os.path.exists(cache) and "QSPLIT_SANITIZE:BOOL=ON" in h.read(cache)


def stages():
    """Each stage's apt-get install packages, in order."""
    text = h.read(CONTAINERFILE).replace("\\\n", " ")
    out = []
    for stage in re.split(r"^FROM ", text, flags=re.M)[1:]:
        packages = set()
        for command in re.findall(r"apt-get install ([^&\n]*)", stage):
            packages |= {w for w in command.split() if not w.startswith("-")}
        out.append(packages)
    return out


def package_of(library):
    """The Debian package that holds a shared library, by the name the binary needs."""
    for line in subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, check=True).stdout.splitlines():
        parts = line.split()
        if parts and parts[0] == library:
            path = parts[-1]
            for candidate in (path, os.path.realpath(path), path.replace("/lib/", "/usr/lib/", 1)):
                found = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
                if found.returncode == 0:
                    return found.stdout.split(":")[0]
    raise AssertionError(f"no Debian package holds {library}")


def needed(binary):
    out = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True, check=True).stdout
    return re.findall(r"\(NEEDED\).*\[(.+)\]", out)


class Containerfile(unittest.TestCase):
    def test_the_runtime_stage_installs_every_library_the_programs_load(self):
        build, runtime = stages()
        present = BASE | (SANITIZERS if sanitized() else set())
        for binary in (h.QSPLITD, h.QSPLIT):
            packages = {package_of(lib) for lib in needed(binary)}
            self.assertEqual(packages - runtime - present, set(), f"{binary} loads libraries of these")

    def test_the_build_stage_installs_every_library_package_the_build_uses(self):
        build, _ = stages()
        deps = h.read(os.path.join(h.SOURCE, "scripts/install-deps.sh"))
        listed = " ".join(re.findall(r"packages\+?=\((.*?)\n\)", deps, flags=re.S)).split()
        tests_and_bench = {"libbenchmark-dev", "libgtest-dev", "libgmock-dev"}  # both off there
        libraries = {p for p in listed if p.endswith("-dev") and p not in tests_and_bench}
        self.assertEqual(libraries - build, set())

    def test_its_build_configures_without_tests_and_benchmarks_and_has_both_programs(self):
        with tempfile.TemporaryDirectory() as out:
            subprocess.run(["cmake", "-S", h.SOURCE, "-B", out, "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release",
                            "-DQSPLIT_TESTS=OFF", "-DQSPLIT_BENCH=OFF"],
                           check=True, capture_output=True, text=True, timeout=300)
            targets = subprocess.run(["ninja", "-C", out, "-t", "targets", "all"], check=True,
                                     capture_output=True, text=True).stdout
            self.assertIn("apps/qsplitd/qsplitd:", targets)
            self.assertIn("apps/qsplit/qsplit:", targets)
            self.assertNotIn("control_test", targets)


if __name__ == "__main__":
    unittest.main(verbosity=2)
