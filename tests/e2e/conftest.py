"""pytest fixtures for Causeway's end-to-end tests (see harness.py).

Fixtures (all function-scoped: every test gets fresh servers on fresh ports):
  privilege   True (default) = Prosody with mod_privilege (XEP-0356) granted to
              the gateway; parametrize a test over it to run both variants:
                  @pytest.mark.parametrize("privilege", [True, False], ids=[...])
  rig         harness.Rig for the test's tmp dir; stops everything at teardown
  prosody     a started harness.Prosody with alice, bob, admin (localhost) and
              mallory (other.localhost) registered
  causeway    `$CAUSEWAY_BIN -c FILE --transport loop -v`, connected
  alice, bob, admin, mallory   logged-in harness.Client objects

On failure the report gets extra sections with the tails of the causeway and
Prosody logs and of each client's transcript.
"""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line("markers", "legacy_offline: test_purple.py's legacy.test keeps "
                            "offline messages (mod_offline)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        for rig in getattr(item, "_causeway_rigs", []):
            try:
                rep.sections.append(("causeway/prosody logs (%s)" % rep.when, rig.report()))
            except Exception as e:  # noqa: BLE001
                rep.sections.append(("rig report", "could not collect logs: %r" % e))


def pytest_sessionfinish(session, exitstatus):
    harness.XmppLoop.shutdown()


@pytest.fixture
def privilege():
    return True


@pytest.fixture
def rig(request, tmp_path, privilege):
    r = harness.Rig(tmp_path, privilege=privilege)
    if not hasattr(request.node, "_causeway_rigs"):
        request.node._causeway_rigs = []
    request.node._causeway_rigs.append(r)
    yield r
    errors = r.stop()
    leftovers = [p for cw in r.causeways for p in cw.our_pids()]
    assert not leftovers, "processes left behind: %s" % leftovers
    assert not errors, "teardown errors: %r" % errors


@pytest.fixture
def prosody(rig):
    return rig.start_prosody()


@pytest.fixture
def causeway(rig, prosody):
    return rig.start_causeway()


@pytest.fixture
def alice(rig, prosody):
    return rig.client("alice")


@pytest.fixture
def bob(rig, prosody):
    return rig.client("bob")


@pytest.fixture
def admin(rig, prosody):
    return rig.client("admin")


@pytest.fixture
def mallory(rig, prosody):
    return rig.client("mallory")
