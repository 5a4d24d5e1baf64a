"""``eventgate types list|show|create|delete`` and ``eventgate rules set``, through the API."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from eventgate.cli.api_client import ApiClient
from eventgate.settings import Settings

CATEGORIES = (
    "click",
    "subscribe",
    "rfm",
    "import",
    "notification",
    "regular_workflow",
    "contact_field_change",
    "other",
)


def add_parsers(sub: Any) -> None:
    types = sub.add_parser("types", help="list, show, create and delete event types (via the API)")
    actions = types.add_subparsers(dest="types_command", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="list event types with their 24 h figures")
    listing.add_argument("--status", choices=("all", "active", "inactive"), default="all")
    listing.add_argument(
        "--dependency", choices=("all", "launch", "stop", "segmentation", "none"), default="all"
    )
    listing.add_argument("-q", "--search", help="search name or key")
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--offset", type=int, default=0)
    listing.add_argument("--sort", default="key", help="a field, '-' for descending")
    listing.add_argument("--json", action="store_true", help="print the API's JSON")
    listing.set_defaults(handler=types_list)
    show = actions.add_parser("show", help="one event type as JSON")
    show.add_argument("key")
    show.set_defaults(handler=types_show)
    create = actions.add_parser("create", help="create an event type")
    create.add_argument("key")
    create.add_argument("--name", required=True)
    create.add_argument("--category", choices=CATEGORIES, default="other")
    create.add_argument("--segmentation", action="store_true")
    create.set_defaults(handler=types_create)
    delete = actions.add_parser("delete", help="delete an event type (refused while used)")
    delete.add_argument("key")
    delete.set_defaults(handler=types_delete)

    rules = sub.add_parser("rules", help="validation rules of an event type (via the API)")
    rules_actions = rules.add_subparsers(dest="rules_command", required=True, metavar="ACTION")
    set_rules = rules_actions.add_parser(
        "set",
        help="set a type's validation rules from a JSON file (simple form or JSON Schema)",
    )
    set_rules.add_argument("key")
    set_rules.add_argument("file", help="JSON file with the rules ('-' reads stdin)")
    set_rules.add_argument("--disable", action="store_true", help="store the rules, validation off")
    set_rules.set_defaults(handler=rules_set)


def _client(settings: Settings) -> ApiClient:
    return ApiClient.from_settings(settings)


def types_list(settings: Settings, args: argparse.Namespace) -> int:
    query = {
        "status": args.status,
        "dependency": args.dependency,
        "q": args.search,
        "limit": args.limit,
        "offset": args.offset,
        "sort": args.sort,
    }
    _, page, _ = _client(settings).call("GET", "/event-types", query=query)
    if args.json:
        print(json.dumps(page, indent=2))
        return 0
    rows = [("KEY", "NAME", "CATEGORY", "STATUS", "DEPS", "VOL24H", "LAUNCHED", "ERRORS")]
    for t in page["items"]:
        rows.append(
            (
                t["key"],
                t["name"][:40],
                t["category"],
                t["status"],
                str(t["dependencies"]["total"]),
                _figure(t.get("volume24h")),
                _figure(t.get("launched24h")),
                _figure(t.get("errors24h")),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    shown = len(page["items"])
    print(f"{shown} of {page['total']} (offset {page['offset']})", file=sys.stderr)
    return 0


def _figure(value: Any) -> str:
    return "-" if value is None else str(value)


def types_show(settings: Settings, args: argparse.Namespace) -> int:
    _, body, _ = _client(settings).call("GET", f"/event-types/{args.key}")
    print(json.dumps(body, indent=2))
    return 0


def types_create(settings: Settings, args: argparse.Namespace) -> int:
    body = {
        "key": args.key,
        "name": args.name,
        "category": args.category,
        "segmentation": args.segmentation,
    }
    _, created, _ = _client(settings).call("POST", "/event-types", body)
    print(f"created {created['key']} (version {created['version']})")
    return 0


def types_delete(settings: Settings, args: argparse.Namespace) -> int:
    _client(settings).call("DELETE", f"/event-types/{args.key}")
    print(f"deleted {args.key}; its next event registers it again, with validation off")
    return 0


def rules_set(settings: Settings, args: argparse.Namespace) -> int:
    text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text()
    try:
        rules = json.loads(text)
    except ValueError as exc:
        print(f"error: {args.file} is not JSON: {exc}", file=sys.stderr)
        return 2
    body = {"enabled": not args.disable, "rules": rules}
    _client(settings).call("PUT", f"/event-types/{args.key}/validation", body)
    print(f"validation of {args.key} {'stored (off)' if args.disable else 'on'}")
    return 0
