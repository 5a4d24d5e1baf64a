"""The ACLs the docs tell operators to create are the ones the security tests run with."""

from __future__ import annotations

from pathlib import Path

from eventgate.devstack.certs import server_extensions
from eventgate.devstack.kafka_secure import AclRule, acl_command_lines, eventgate_acls
from eventgate.devstack.redis_tls import acl_file, eventgate_redis_acl, lua_commands

ROOT = Path(__file__).resolve().parents[2]
OPERATIONS = (ROOT / "docs/operations.md").read_text()


def test_the_documented_kafka_acls_are_the_tested_ones() -> None:
    for line in acl_command_lines("eventgate.", "eventgate").splitlines():
        assert line in OPERATIONS


def test_the_documented_redis_rule_is_the_tested_one() -> None:
    assert f"ACL SETUSER eventgate {eventgate_redis_acl('eventgate.')} >PASSWORD" in OPERATIONS


def test_the_writer_group_gets_its_own_acl_when_the_group_prefix_misses_it() -> None:
    assert len(eventgate_acls("eventgate.", "eventgate")) == 3  # "eventgate" covers both
    rules = eventgate_acls("acme.", "processors")
    assert AclRule("group", "acme.registry-writer", "literal", ("Read",)) in rules
    assert AclRule("group", "processors", "prefixed", ("Read",)) in rules


def test_the_redis_rule_grants_every_command_of_the_scripts_and_nothing_broad() -> None:
    rule = eventgate_redis_acl("acme.")
    assert {"hincrby", "zadd", "lpush", "pexpire"} <= set(lua_commands())
    for command in lua_commands():
        assert f"+{command}" in rule.split()
    assert "~{acme.*" in rule.split()
    assert "-@all" in rule.split()
    assert not [word for word in rule.split() if word.startswith("+@")]
    assert "+cluster|slots" in eventgate_redis_acl("acme.", cluster=True).split()


def test_the_local_redis_turns_the_default_user_off() -> None:
    lines = acl_file({"admin": "a1", "eventgate": "e1", "outsider": "o1"}, "acme.").splitlines()
    assert lines[0].startswith("user default off")
    assert lines[2] == f"user eventgate {eventgate_redis_acl('acme.')} >e1"
    assert lines[3].endswith("-@all")


def test_the_server_certificate_names_the_local_addresses() -> None:
    assert "subjectAltName=DNS:localhost,IP:127.0.0.1" in server_extensions()
