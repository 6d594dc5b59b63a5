"""What Pacemaker passes in the environment: meta attributes, probes, bundles, notifications."""

from __future__ import annotations

import pytest

from ocf_agents.ocf.env import Environment, Notification, Peers, is_true

META = "OCF_RESKEY_CRM_meta_"
NOTIFY = META + "notify_"


@pytest.mark.parametrize("word", ["yes", "Yes", "TRUE", "1", "on", " on "])
def test_is_true_reads_the_words_of_ocf_is_true_in_any_case(word: str) -> None:
    assert is_true(word)


@pytest.mark.parametrize("word", [None, "", "no", "0", "off", "false", "garbage"])
def test_anything_else_is_false(word: str | None) -> None:
    assert not is_true(word)


@pytest.mark.parametrize(
    "environ, probe",
    [
        ({}, True),
        ({META + "interval": "0"}, True),
        ({META + "interval": ""}, True),
        ({META + "interval": "10000"}, False),
    ],
)
def test_a_monitor_without_interval_is_a_probe(environ: dict[str, str], probe: bool) -> None:
    assert Environment(environ).is_probe is probe


def test_the_interval_is_milliseconds() -> None:
    assert Environment({META + "interval": " 10000 "}).interval_ms == 10000


def test_unreadable_numbers_count_as_unset() -> None:
    env = Environment({META + "interval": "soon", "OCF_CHECK_LEVEL": "deep"})
    assert (env.interval_ms, env.check_level) == (0, 0)


@pytest.mark.parametrize("level, expected", [(None, 0), ("0", 0), ("10", 10), ("20", 20)])
def test_check_level(level: str | None, expected: int) -> None:
    environ = {} if level is None else {"OCF_CHECK_LEVEL": level}
    assert Environment(environ).check_level == expected


def test_parameters_are_read_raw() -> None:
    env = Environment({"OCF_RESKEY_listen": " 127.0.0.1 "})
    assert (env.raw("listen"), env.raw("missing")) == (" 127.0.0.1 ", None)


def test_meta_attributes_are_named_with_dashes_or_underscores() -> None:
    env = Environment({META + "clone_node_max": "1", META + "on_node": "n1"})
    assert env.meta("clone-node-max") == env.meta("clone_node_max") == "1"
    assert (env.on_node, env.meta("absent")) == ("n1", "")


def test_clone_promotable_and_notify_meta_attributes() -> None:
    plain = Environment({})
    assert (plain.is_clone, plain.is_promotable, plain.notify_enabled) == (False, False, False)
    clone = Environment({META + "clone_max": "3", META + "promotable": "true", META + "notify": "yes"})
    assert (clone.is_clone, clone.is_promotable, clone.notify_enabled) == (True, True, True)


def test_the_deprecated_master_max_still_means_promotable() -> None:
    assert Environment({META + "master_max": "1"}).is_promotable


def test_the_resource_name_drops_the_clone_suffix() -> None:
    env = Environment({"OCF_RESOURCE_INSTANCE": "ovndb:1"})
    assert (env.resource_instance, env.resource_name) == ("ovndb:1", "ovndb")


@pytest.mark.parametrize(
    "meta, host",
    [
        ({"container_attribute_target": "host", "physical_host": "metal1"}, "metal1"),
        ({"container_attribute_target": "host"}, None),
        ({"physical_host": "metal1"}, None),
        ({}, None),
    ],
)
def test_attributes_are_keyed_by_the_physical_host_only_in_a_bundle_that_asks(
    meta: dict[str, str], host: str | None
) -> None:
    env = Environment({META + name: value for name, value in meta.items()})
    assert env.attribute_host == host


def test_environment_defaults_to_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OCF_RESKEY_from_process", "yes")
    assert Environment().raw("from_process") == "yes"


def test_a_notification_is_parsed_into_categories() -> None:
    note = Environment(
        {
            NOTIFY + "type": "pre",
            NOTIFY + "operation": "promote",
            NOTIFY + "promote_resource": "db:1",
            NOTIFY + "promote_uname": "n2",
            NOTIFY + "active_resource": "db:0 db:1",
            NOTIFY + "active_uname": "n1 n2",
            NOTIFY + "inactive_resource": "db:2",
        }
    ).notification()
    assert (note.type, note.operation) == ("pre", "promote")
    assert note.promote == Peers(("db:1",), ("n2",))
    assert note.active == Peers(("db:0", "db:1"), ("n1", "n2"))
    assert note.inactive == Peers(("db:2",), ())
    assert note.stop == Peers()


def test_stray_whitespace_in_notifications_is_tolerated() -> None:
    note = Notification.from_environ(
        {
            NOTIFY + "type": " post ",
            NOTIFY + "operation": "start\n",
            NOTIFY + "start_resource": "  db:0   db:1 \n",
            NOTIFY + "start_uname": "\tn1  n2 ",
            NOTIFY + "stop_uname": "   ",
        }
    )
    assert (note.type, note.operation) == ("post", "start")
    assert note.start == Peers(("db:0", "db:1"), ("n1", "n2"))
    assert note.stop == Peers()


def test_the_deprecated_master_and_slave_lists_fill_promoted_and_unpromoted() -> None:
    note = Notification.from_environ(
        {
            NOTIFY + "master_resource": "db:0",
            NOTIFY + "master_uname": "n1",
            NOTIFY + "slave_resource": "db:1 db:2",
            NOTIFY + "slave_uname": "n2 n3",
        }
    )
    assert note.promoted == Peers(("db:0",), ("n1",))
    assert note.unpromoted == Peers(("db:1", "db:2"), ("n2", "n3"))


def test_the_current_names_win_over_the_deprecated_ones() -> None:
    note = Notification.from_environ(
        {NOTIFY + "promoted_uname": "new", NOTIFY + "master_uname": "old", NOTIFY + "slave_uname": "n9"}
    )
    assert (note.promoted.unames, note.unpromoted.unames) == (("new",), ("n9",))


def test_a_blank_current_list_falls_back_to_the_deprecated_one() -> None:
    note = Notification.from_environ({NOTIFY + "unpromoted_uname": " ", NOTIFY + "slave_uname": "n2"})
    assert note.unpromoted.unames == ("n2",)


def test_an_unknown_category_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError):
        Notification.from_environ({}).promotion  # noqa: B018 - the access is the test
