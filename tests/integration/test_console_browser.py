"""The operator console (SPEC §11) in headless Chromium against a whole stack: ``eventgate
up`` (a worker and the API/console) on the real Kafka and Redis, seeded through the API
and the ingest topic (console_stack.py). Every control of §11 is clicked; each test
asserts what the operator sees. Screenshots: ``test-artifacts/console/``.

``CONSOLE_README_SCREENSHOT=1`` also writes the list to ``docs/images/console-list.png``
(``scripts/console_screenshot.py`` runs the list test that way).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import AsyncIterator

import pytest
from console_stack import (
    ADMIN,
    ARTIFACTS,
    CHROMIUM_ARGS,
    FAILED_ORDERS,
    FIELD_SYSTEM_KEY,
    LAUNCH_KEYS,
    READ,
    README_SCREENSHOT,
    SEGMENT_SYSTEM_KEY,
    STOP_KEYS,
    ServicesLike,
    Stack,
    chromium_path,
    publish,
    running_stack,
    seed,
)
from playwright.async_api import Browser, Locator, Page, Route, async_playwright, expect

WAIT_MS = 20_000
expect.set_options(timeout=WAIT_MS)


@pytest.fixture(scope="module")
async def stack(services: ServicesLike) -> AsyncIterator[Stack]:
    async with running_stack(services.kafka_bootstrap, services.redis_url) as running:
        await seed(running)
        yield running


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    executable = chromium_path()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@pytest.fixture
async def page(
    browser: Browser, stack: Stack, request: pytest.FixtureRequest
) -> AsyncIterator[Page]:
    """A fresh browser session (its own sessionStorage) on the console; JS errors fail."""
    context = await browser.new_context(
        base_url=stack.base_url, viewport={"width": 1440, "height": 900}
    )
    await context.grant_permissions(["clipboard-read", "clipboard-write"], origin=stack.base_url)
    context.set_default_timeout(WAIT_MS)
    opened = await context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    await shot(opened, f"{request.node.name}-end")
    await context.close()
    assert not errors, f"JavaScript errors: {errors}"


async def shot(page: Page, name: str, *, full_page: bool = False) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)


async def sign_in(page: Page, token: str = ADMIN) -> None:
    await page.goto("/")
    prompt = page.get_by_role("dialog", name="Sign in to eventgate")
    await prompt.get_by_label("API token").fill(token)
    await prompt.get_by_role("button", name="Open console").click()
    await expect(prompt).to_be_hidden()
    await expect(row(page, "Order completed")).to_be_visible()


def rows(page: Page) -> Locator:
    return page.locator("#rows > tr")


def row(page: Page, name: str) -> Locator:
    return rows(page).filter(
        has=page.get_by_role("rowheader").filter(has_text=re.compile(rf"^{re.escape(name)}"))
    )


async def shown_keys(page: Page) -> set[str]:
    return set(await page.locator("#rows .type-key").all_text_contents())


async def menu(page: Page, type_name: str, item: str) -> None:
    await row(page, type_name).get_by_role("button", name=f"Actions for {type_name}").click()
    await page.get_by_role("menu").get_by_role("menuitem", name=item).click()


def shown_range(first: int, last: int, total: int) -> str:
    return f"{first}\u2013{last} of {total} event types"


async def total_of(stack: Stack) -> int:
    return int((await stack.ok("GET", "/event-types?limit=1"))["total"])


# -- the list ---------------------------------------------------------------------------------


async def test_list_shows_every_kind_of_type_with_its_columns(page: Page, stack: Stack) -> None:
    await sign_in(page)
    total = await total_of(stack)
    assert total >= 20
    await expect(rows(page)).to_have_count(total)
    await expect(page.locator("#range")).to_have_text(shown_range(1, total, total))
    headers = await page.locator("#types thead th").all_inner_texts()
    assert [h.replace(" ↕", "").strip() for h in headers[:6]] == [
        "Event type",
        "Dependencies",
        "24 h volume",
        "24 h launched workflows",
        "24 h errors",
        "Segmentation",
    ]
    # system types carry their segment / contact field, name and ID
    vip = row(page, "Regular workflow: VIP buyers (1234)")
    await expect(vip).to_contain_text(SEGMENT_SYSTEM_KEY)
    await expect(vip).to_contain_text("Segment: VIP buyers · ID 1234")
    await expect(vip).to_contain_text("Regular workflow")
    birthday = row(page, "Contact field change: Birthday (77)")
    await expect(birthday).to_contain_text(FIELD_SYSTEM_KEY)
    await expect(birthday).to_contain_text("Contact field: Birthday · ID 77")
    # an auto-registered type is named after its key
    await expect(row(page, "auto.signup")).to_contain_text("Other")
    # grouped dependency counts, badges, the switch
    order = row(page, "Order completed")
    await expect(
        order.get_by_role("button", name=re.compile("dependencies of Order completed"))
    ).to_have_text("1 launch1 stop1 segment")
    await expect(order).to_contain_text("Validation on")
    await expect(order).to_contain_text("Active")
    await expect(
        order.get_by_role("switch", name="Use Order completed for segmentation")
    ).to_have_attribute("aria-checked", "true")
    await expect(row(page, "Page viewed").locator(".deps-cell")).to_have_text("None")
    await expect(row(page, "Contacts imported")).to_contain_text("Inactive")
    # 24 h figures: 5 accepted + 1 rejected orders (not the duplicate), 5 launches, 2 failed
    api_row = next(
        t
        for t in (await stack.ok("GET", "/event-types?q=order.completed"))["items"]
        if t["key"] == "order.completed"
    )
    if api_row.get("volume24h") is None:
        await expect(order.locator('[data-col="volume"]')).to_have_text("—")
    else:
        await expect(order.locator('[data-col="volume"]')).to_have_text("6")
        await expect(order.locator('[data-col="launched"]')).to_have_text("5")
        await expect(order.locator('[data-col="errors"]')).to_have_text(str(FAILED_ORDERS))
        await expect(row(page, "Page viewed").locator('[data-col="volume"]')).to_have_text("30")
    await page.mouse.move(0, 0)
    await shot(page, "list", full_page=True)
    if os.environ.get("CONSOLE_README_SCREENSHOT") == "1":
        README_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(README_SCREENSHOT), full_page=True)


async def test_status_tabs_filter_by_activity(page: Page, stack: Stack) -> None:
    await sign_in(page)
    tabs = page.get_by_role("tablist", name="Status")
    await tabs.get_by_role("tab", name="Active", exact=True).click()
    await expect(tabs.get_by_role("tab", name="Active", exact=True)).to_have_attribute(
        "aria-selected", "true"
    )
    await expect(row(page, "Contacts imported")).to_have_count(0)
    keys = await shown_keys(page)
    assert {"order.completed", "page.viewed", "auto.signup", SEGMENT_SYSTEM_KEY} <= keys
    await expect(page.locator("#rows .badge.status-inactive")).to_have_count(0)
    await shot(page, "tab-active")
    # keyboard: arrow right moves to "Inactive" and selects it
    await tabs.get_by_role("tab", name="Active", exact=True).focus()
    await page.keyboard.press("ArrowRight")
    await expect(tabs.get_by_role("tab", name="Inactive")).to_have_attribute(
        "aria-selected", "true"
    )
    await expect(tabs.get_by_role("tab", name="Inactive")).to_be_focused()
    await expect(row(page, "Order completed")).to_have_count(0)
    assert {"import.contacts", "rfm.champion", FIELD_SYSTEM_KEY} <= await shown_keys(page)
    await expect(page.locator("#rows .badge.status-active")).to_have_count(0)
    await tabs.get_by_role("tab", name="All statuses").click()
    await expect(rows(page)).to_have_count(await total_of(stack))


async def test_dependency_tabs_filter_by_what_depends_on_a_type(page: Page) -> None:
    await sign_in(page)
    tabs = page.get_by_role("tablist", name="Dependencies")
    await tabs.get_by_role("tab", name="Launch workflow").click()
    await expect(rows(page)).to_have_count(len(LAUNCH_KEYS))
    assert await shown_keys(page) == LAUNCH_KEYS
    for label in await page.locator("#rows .deps-cell").all_inner_texts():
        assert "launch" in label
    await shot(page, "tab-launch")

    await tabs.get_by_role("tab", name="Stop workflow").click()
    await expect(rows(page)).to_have_count(len(STOP_KEYS))
    assert await shown_keys(page) == STOP_KEYS

    await tabs.get_by_role("tab", name="Enabled segmentation").click()
    await expect(row(page, "Email link clicked")).to_be_visible()  # not on the Stop tab
    assert {"order.completed", "email.clicked", "form.sent"} <= await shown_keys(page)
    await expect(page.locator('#rows [role="switch"][aria-checked="false"]')).to_have_count(0)

    await tabs.get_by_role("tab", name="Without dependencies").click()
    await expect(row(page, "Order completed")).to_have_count(0)
    assert {"page.viewed", "auto.signup", "import.contacts"} <= await shown_keys(page)
    for label in await page.locator("#rows .deps-cell").all_inner_texts():
        assert label == "None"
    await expect(tabs.get_by_role("tab", name="Without dependencies")).to_have_attribute(
        "aria-selected", "true"
    )


async def test_search_by_name_and_the_empty_state(page: Page, stack: Stack) -> None:
    await sign_in(page)
    search = page.get_by_label("Search by name")
    await search.fill("newsletter")
    await expect(rows(page)).to_have_count(2)
    assert await shown_keys(page) == {"newsletter.subscribed", "newsletter.unsubscribed"}
    await search.fill("rfm")  # case-insensitive: the names say "RFM"
    await expect(rows(page)).to_have_count(2)
    await expect(row(page, "RFM: champions")).to_be_visible()
    await search.fill("no-such-type-anywhere")
    empty = page.get_by_text("No event types match these filters.")
    await expect(empty).to_be_visible()
    await expect(page.locator("#range")).to_have_text("0 event types")
    await shot(page, "search-empty")
    await page.get_by_role("button", name="Clear filters").click()
    await expect(search).to_have_value("")
    await expect(rows(page)).to_have_count(await total_of(stack))


async def test_sorting_by_clicking_column_headers(page: Page) -> None:
    await sign_in(page)
    header = page.get_by_role("columnheader", name="Event type")
    await header.get_by_role("button").click()
    await expect(header).to_have_attribute("aria-sort", "ascending")
    await expect(rows(page).first).to_contain_text("Added to wishlist")
    names = await page.locator("#rows .type-name").all_text_contents()
    assert names == sorted(names, key=str.casefold)
    await header.get_by_role("button").click()
    await expect(header).to_have_attribute("aria-sort", "descending")
    await expect(rows(page).first).not_to_contain_text("Added to wishlist")
    names = await page.locator("#rows .type-name").all_text_contents()
    assert names == sorted(names, key=str.casefold, reverse=True)
    segmentation = page.get_by_role("columnheader", name="Segmentation")
    await segmentation.get_by_role("button").click()
    await expect(segmentation).to_have_attribute("aria-sort", "ascending")
    await expect(header).to_have_attribute("aria-sort", "none")
    switches = page.locator('#rows [role="switch"]')
    # off before on, ties by key: "app.installed" leads, a type with segmentation on ends
    await expect(rows(page).first).to_contain_text("app.installed")
    await expect(switches.last).to_have_attribute("aria-checked", "true")
    states = [await s.get_attribute("aria-checked") for s in await switches.all()]
    assert states == sorted(states)  # "false" before "true"
    volume = page.get_by_role("columnheader", name="24 h volume")
    await volume.get_by_role("button").click()
    await volume.get_by_role("button").click()
    await expect(volume).to_have_attribute("aria-sort", "descending")
    await expect(rows(page).first).to_contain_text("page.viewed")  # 30 views: the busiest


async def test_pagination_with_page_sizes(page: Page, stack: Stack) -> None:
    await sign_in(page)
    total = await total_of(stack)
    await page.get_by_label("Rows per page").select_option("25")
    await expect(rows(page)).to_have_count(25)
    await expect(page.locator("#range")).to_have_text(shown_range(1, 25, total))
    pages = -(-total // 25)
    await expect(page.locator("#page-of")).to_have_text(f"Page 1 of {pages}")
    previous = page.get_by_role("button", name="Previous page")
    following = page.get_by_role("button", name="Next page")
    await expect(previous).to_be_disabled()
    first_page = await shown_keys(page)
    await following.click()
    await expect(page.locator("#page-of")).to_have_text(f"Page 2 of {pages}")
    await expect(rows(page)).to_have_count(min(25, total - 25))
    await expect(page.locator("#range")).to_have_text(shown_range(26, min(50, total), total))
    assert not (await shown_keys(page)) & first_page
    await shot(page, "page-2")
    if pages == 2:
        await expect(following).to_be_disabled()
    await previous.click()
    await expect(page.locator("#page-of")).to_have_text(f"Page 1 of {pages}")
    assert await shown_keys(page) == first_page
    await page.get_by_label("Rows per page").select_option("100")
    await expect(rows(page)).to_have_count(total)
    await expect(following).to_be_disabled()


# -- dependencies and the segmentation switch ---------------------------------------------------


async def test_dependencies_window_links_to_each_workflow_and_segment(page: Page) -> None:
    await sign_in(page)
    await (
        row(page, "Order completed").get_by_role("button", name=re.compile("dependencies")).click()
    )
    window = page.get_by_role("dialog", name="Dependencies of Order completed")
    await expect(window.get_by_role("heading", name="Launch workflow (1)")).to_be_visible()
    await expect(window.get_by_role("heading", name="Stop workflow (1)")).to_be_visible()
    await expect(window.get_by_role("heading", name="Segments (1)")).to_be_visible()
    await expect(window).to_contain_text("Thank-you for the order")
    await expect(window).to_contain_text("Abandoned cart reminder")
    await expect(window).to_contain_text("Engaged buyers")
    await shot(page, "dependencies")

    await window.get_by_role("link", name="View workflow Thank-you for the order").click()
    await expect(page).to_have_url(re.compile(r"#/workflows/wf-thanks$"))
    workflow = page.get_by_role("dialog", name="Workflow: Thank-you for the order")
    await expect(workflow).to_contain_text("wf-thanks")
    await expect(workflow).to_contain_text("order.completed")
    await shot(page, "dependency-workflow")
    await workflow.get_by_role("button", name="Close").click()
    await expect(workflow).to_be_hidden()

    await window.get_by_role("link", name="View segment Engaged buyers").click()
    segment = page.get_by_role("dialog", name="Segment: Engaged buyers")
    await expect(segment).to_contain_text("email.clicked")
    await page.keyboard.press("Escape")
    await expect(segment).to_be_hidden()
    await page.keyboard.press("Escape")
    await expect(window).to_be_hidden()

    # a system type's window names the workflow whose launch condition made it
    vip = row(page, "Regular workflow: VIP buyers (1234)")
    await vip.get_by_role("button", name=re.compile("dependencies")).click()
    window = page.get_by_role("dialog", name="Dependencies of Regular workflow: VIP buyers (1234)")
    await window.get_by_role("link", name="View workflow VIP welcome").click()
    await expect(page.get_by_role("dialog", name="Workflow: VIP welcome")).to_contain_text(
        "Segment VIP buyers (ID 1234)"
    )


async def test_segmentation_switch_patches_with_if_match(page: Page, stack: Stack) -> None:
    await sign_in(page)
    before = await stack.ok("GET", "/event-types/wishlist.added")
    assert before["segmentation"] is False
    switch = row(page, "Added to wishlist").get_by_role("switch")
    await expect(switch).to_have_attribute("aria-checked", "false")
    async with page.expect_request(
        lambda r: r.method == "PATCH" and r.url.endswith("/event-types/wishlist.added")
    ) as sent:
        await switch.click()
    patch = await sent.value
    assert patch.headers["if-match"] == f'"{before["version"]}"'
    assert json.loads(patch.post_data or "{}") == {"segmentation": True}
    await expect(switch).to_have_attribute("aria-checked", "true")
    await expect(page.get_by_role("status")).to_have_text("Segmentation on for Added to wishlist.")
    assert (await stack.ok("GET", "/event-types/wishlist.added"))["segmentation"] is True
    await page.reload()
    await expect(row(page, "Added to wishlist").get_by_role("switch")).to_have_attribute(
        "aria-checked", "true"
    )
    await row(page, "Added to wishlist").get_by_role("switch").click()
    await expect(row(page, "Added to wishlist").get_by_role("switch")).to_have_attribute(
        "aria-checked", "false"
    )
    # a segment uses "Email link clicked": switching it off is refused, and it stays on
    email = row(page, "Email link clicked").get_by_role("switch")
    await email.click()
    await expect(page.get_by_role("status")).to_contain_text("seg-engaged")
    await expect(email).to_have_attribute("aria-checked", "true")
    await expect(email).to_be_enabled()
    await shot(page, "segmentation-refused")


# -- the ⋮ menu ---------------------------------------------------------------------------------


async def test_event_history_with_outcomes_and_load_more(page: Page, stack: Stack) -> None:
    served = await stack.served("/event-types/order.completed/history")
    await sign_in(page)
    # keyboard: Enter opens the menu on its first item, arrows move, Escape closes it
    more = row(page, "Order completed").get_by_role("button", name="Actions for Order completed")
    await more.focus()
    await page.keyboard.press("Enter")
    menu_box = page.get_by_role("menu")
    await expect(menu_box.get_by_role("menuitem", name="Event history")).to_be_focused()
    await expect(more).to_have_attribute("aria-expanded", "true")
    await page.keyboard.press("ArrowDown")
    await expect(menu_box.get_by_role("menuitem", name="Validate parameters")).to_be_focused()
    await page.keyboard.press("Escape")
    await expect(menu_box).to_be_hidden()
    await expect(more).to_be_focused()

    await menu(page, "Order completed", "Event history")
    window = page.get_by_role("dialog", name="Event history: Order completed")
    if not served:
        await expect(window.get_by_role("alert")).to_have_text(
            "This API does not serve event history yet."
        )
        pytest.skip("GET /event-types/{key}/history is not served by this API yet")
    history = window.locator("#history-rows > tr")
    await expect(history).to_have_count(7)
    rejected = history.filter(has_text="rejected")
    await expect(rejected).to_contain_text("validation_failed")
    await expect(rejected).to_contain_text("contact-bad")
    await expect(history.filter(has_text="duplicate")).to_have_count(1)
    accepted = history.filter(has_text="accepted")
    await expect(accepted).to_have_count(5)
    await expect(accepted.filter(has_text="wf-thanks")).to_have_count(5)
    await expect(window.get_by_role("button", name="Load more")).to_be_hidden()
    await shot(page, "history")
    await window.get_by_role("button", name="Close").click()

    # 30 page views: 20 on the first page, the rest behind "Load more"
    await menu(page, "Page viewed", "Event history")
    window = page.get_by_role("dialog", name="Event history: Page viewed")
    history = window.locator("#history-rows > tr")
    await expect(history).to_have_count(20)
    await window.get_by_role("button", name="Load more").click()
    await expect(history).to_have_count(30)
    await expect(window.get_by_role("button", name="Load more")).to_be_hidden()
    contacts = await window.locator("#history-rows > tr > td:nth-child(2)").all_text_contents()
    assert sorted(contacts) == sorted(f"visitor-{n}" for n in range(30))


async def test_rules_editor_shows_server_refusals_inline(page: Page, stack: Stack) -> None:
    await sign_in(page)
    await menu(page, "Review posted", "Validate parameters")
    editor = page.get_by_role("dialog", name="Validate parameters: Review posted")
    enabled = editor.get_by_role("switch", name="Validate parameters of incoming events")
    text = editor.get_by_label("Rules (JSON)")
    await expect(enabled).not_to_be_checked()
    await expect(text).to_have_value("")
    error = editor.get_by_role("alert")

    await text.fill('{"type": "object", "properties": {')
    await editor.get_by_role("button", name="Save rules").click()
    await expect(error).to_contain_text("The rules are not valid JSON")

    await enabled.check()
    await text.fill(
        json.dumps({"$schema": "http://json-schema.org/draft-04/schema#", "type": "object"})
    )
    await editor.get_by_role("button", name="Save rules").click()
    await expect(error).to_contain_text("draft-04")
    await expect(text).to_have_attribute("aria-invalid", "true")

    lookbehind = {"type": "object", "properties": {"a": {"type": "string", "pattern": "(?<=a)b"}}}
    await text.fill(json.dumps(lookbehind))
    await editor.get_by_role("button", name="Save rules").click()
    await expect(error).to_contain_text("RE2")
    await expect(error).to_contain_text("/properties/a/pattern")
    await shot(page, "rules-422")
    assert (await stack.ok("GET", "/event-types/review.posted/validation"))["enabled"] is False

    await editor.get_by_role("button", name="Insert simple-form example").click()
    await editor.get_by_role("button", name="Save rules").click()
    await expect(editor).to_be_hidden()
    await expect(row(page, "Review posted")).to_contain_text("Validation on")
    saved = await stack.ok("GET", "/event-types/review.posted/validation")
    assert saved["enabled"] is True
    assert [rule["name"] for rule in saved["rules"]] == ["sku", "price"]

    # reopened, the editor shows what is stored
    await menu(page, "Review posted", "Validate parameters")
    await expect(enabled).to_be_checked()
    await expect(text).to_have_value(re.compile(r'"name": "sku"'))


async def test_rules_editor_is_locked_until_the_stored_rules_arrive(page: Page) -> None:
    """What is typed before the stored rules load would be overwritten by them (and a save
    would replace rules nobody saw): the editor's controls wait for the load."""
    await sign_in(page)
    release = asyncio.Event()

    async def held(route: Route) -> None:
        await release.wait()
        await route.continue_()

    await page.route(re.compile(r"/api/v1/event-types/order\.completed/validation$"), held)
    await menu(page, "Order completed", "Validate parameters")
    editor = page.get_by_role("dialog", name="Validate parameters: Order completed")
    text = editor.get_by_label("Rules (JSON)")
    save = editor.get_by_role("button", name="Save rules")
    await expect(text).to_be_disabled()
    await expect(save).to_be_disabled()
    await expect(editor.get_by_role("button", name="Insert simple-form example")).to_be_disabled()
    await expect(editor.get_by_role("button", name="Cancel")).to_be_enabled()

    release.set()
    await expect(text).to_be_enabled()
    await expect(save).to_be_enabled()
    await expect(text).to_have_value(re.compile(r'"sku"'))
    await expect(
        editor.get_by_role("switch", name="Validate parameters of incoming events")
    ).to_be_checked()
    await page.unroute(re.compile(r"/api/v1/event-types/order\.completed/validation$"))
    await editor.get_by_role("button", name="Cancel").click()
    await expect(editor).to_be_hidden()


async def test_structure_preview_copies_json_and_paths(page: Page, stack: Stack) -> None:
    await sign_in(page)
    await menu(page, "Order completed", "Structure preview")
    window = page.get_by_role("dialog", name="Structure preview: Order completed")
    await expect(window.locator("#structure-json")).to_contain_text('"items": [')
    path = window.get_by_role("listitem").filter(has_text=re.compile(r"^params\.items\[\]\.sku"))
    await expect(path).to_contain_text("string")
    await shot(page, "structure")
    await path.get_by_role("button", name="Copy params.items[].sku").click()
    await expect(page.get_by_role("status")).to_have_text("Copied params.items[].sku.")
    assert await page.evaluate("navigator.clipboard.readText()") == "params.items[].sku"
    await window.get_by_role("button", name="Copy JSON").click()
    await expect(page.get_by_role("status")).to_have_text("Copied the JSON.")
    copied = json.loads(await page.evaluate("navigator.clipboard.readText()"))
    assert copied == (await stack.ok("GET", "/event-types/order.completed/structure"))["json"]
    await window.get_by_role("button", name="Close").click()
    # offered for types with segmentation on (SPEC §5): not for "Page viewed"
    await row(page, "Page viewed").get_by_role("button", name="Actions for Page viewed").click()
    item = page.get_by_role("menuitem", name="Structure preview")
    await expect(item).to_have_attribute("aria-disabled", "true")
    await item.click(force=True)  # greyed out, not inert: a click says why
    await expect(page.get_by_role("status")).to_contain_text("segmentation on")
    await expect(page.get_by_role("dialog", name=re.compile("Structure preview"))).to_be_hidden()


async def test_delete_refused_while_used_then_deleted(page: Page, stack: Stack) -> None:
    await sign_in(page)
    await menu(page, "Order completed", "Delete")
    confirm = page.get_by_role("dialog", name="Delete Order completed?")
    await expect(confirm).to_contain_text(
        "The next event with the key order.completed registers it again automatically — "
        "with validation off."
    )
    await confirm.get_by_role("button", name="Delete", exact=True).click()
    refusal = confirm.get_by_role("alert")
    await expect(refusal).to_contain_text("cannot be deleted while these depend on it")
    for name in ("Thank-you for the order", "Abandoned cart reminder", "Engaged buyers"):
        await expect(refusal).to_contain_text(name)
    await expect(
        refusal.get_by_role("link", name="View workflow Thank-you for the order")
    ).to_be_visible()
    await shot(page, "delete-409")
    await confirm.get_by_role("button", name="Cancel").click()
    await expect(row(page, "Order completed")).to_be_visible()

    total = await total_of(stack)
    await menu(page, "Coupon redeemed", "Delete")
    confirm = page.get_by_role("dialog", name="Delete Coupon redeemed?")
    await expect(confirm).to_contain_text("with validation off")
    await confirm.get_by_role("button", name="Delete", exact=True).click()
    await expect(confirm).to_be_hidden()
    await expect(page.get_by_role("status")).to_have_text(
        "Deleted Coupon redeemed (coupon.redeemed)."
    )
    await expect(row(page, "Coupon redeemed")).to_have_count(0)
    await expect(page.locator("#range")).to_have_text(shown_range(1, total - 1, total - 1))
    assert (await stack.call("GET", "/event-types/coupon.redeemed")).status_code == 404
    # what the confirmation promised: the next event registers it again, validation off
    await publish(stack, [{"eventTypeKey": "coupon.redeemed", "keyValue": "c9", "params": {}}])
    again = row(page, "coupon.redeemed")  # auto-registered types are named after the key
    await expect(again).to_be_visible()
    await expect(again).not_to_contain_text("Validation on")


async def test_new_event_type_form(page: Page, stack: Stack) -> None:
    await sign_in(page)
    await page.get_by_role("button", name="New event type").click()
    form = page.get_by_role("dialog", name="New event type")
    name, key = form.get_by_label("Name"), form.get_by_label("Key")
    create = form.get_by_role("button", name="Create")

    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.method) if r.method == "POST" else None)
    await create.click()
    await expect(form.get_by_text("Enter a name.")).to_be_visible()
    await name.fill("Gift card purchased")
    await key.fill("gift card!")
    await create.click()
    key_error = form.locator("#create-key-error")
    await expect(key_error).to_contain_text("starting with a letter or digit")
    await expect(key).to_have_attribute("aria-invalid", "true")
    assert requests == []  # refused in the browser, nothing sent
    await shot(page, "new-type-invalid-key")

    await key.fill("order.completed")
    await create.click()
    await expect(form.get_by_text("event type 'order.completed' already exists")).to_be_visible()
    await expect(key).to_be_focused()
    await shot(page, "new-type-409")

    await key.fill("giftcard.purchased")
    await form.get_by_label("Category").select_option(label="Click")
    await form.get_by_role("switch", name="Use event for contact segmentation").check()
    await form.get_by_role("switch", name="Validate parameters").check()
    await form.get_by_label("Rules (JSON)").fill(
        '[{"name": "amount", "required": true, "type": "number"}]'
    )
    await create.click()
    await expect(form).to_be_hidden()
    await expect(page.get_by_role("status")).to_have_text(
        "Created Gift card purchased (giftcard.purchased)."
    )
    created = row(page, "Gift card purchased")
    await expect(created).to_contain_text("giftcard.purchased")
    await expect(created).to_contain_text("Click")
    await expect(created).to_contain_text("Validation on")
    await expect(created.get_by_role("switch")).to_have_attribute("aria-checked", "true")
    stored = await stack.ok("GET", "/event-types/giftcard.purchased")
    assert stored["origin"] == "manual" and stored["category"] == "click"
    assert stored["validation"] == {
        "enabled": True,
        "rules": [{"name": "amount", "required": True, "type": "number"}],
    }


# -- live figures, errors, tokens ---------------------------------------------------------------


async def test_figures_refresh_live(page: Page, stack: Stack) -> None:
    figures = (await stack.ok("GET", "/event-types?q=sms.delivered"))["items"][0]
    if figures.get("volume24h") is None:
        pytest.skip("the list does not carry the 24 h figures yet")
    await sign_in(page)
    sms = row(page, "SMS delivered")
    volume = sms.locator('[data-col="volume"]')
    await expect(volume).to_have_text("0")
    await expect(sms).to_contain_text("Inactive")
    await publish(
        stack,
        [{"eventTypeKey": "sms.delivered", "keyValue": f"m{n}", "params": {}} for n in range(3)],
    )
    await expect(volume).to_have_text("3")  # no reload: the page polls
    await expect(sms).to_contain_text("Active")
    await expect(page.locator("#updated")).to_contain_text("Updated")


async def test_error_state_and_retry(page: Page) -> None:
    await sign_in(page)

    problem = {"code": "registry_unavailable", "message": "no registry writer answered"}

    async def unavailable(route: Route) -> None:
        await route.fulfill(status=503, json={"error": {**problem, "details": None}})

    await page.route(re.compile(r"/api/v1/event-types\?"), unavailable)
    await page.get_by_role("tablist", name="Status").get_by_role("tab", name="Inactive").click()
    banner = page.locator("#load-error")
    await expect(banner).to_contain_text("Could not load event types: no registry writer answered")
    await shot(page, "error-state")
    await page.unroute(re.compile(r"/api/v1/event-types\?"))
    await banner.get_by_role("button", name="Retry").click()
    await expect(banner).to_be_hidden()
    await expect(row(page, "Contacts imported")).to_be_visible()


async def test_token_prompt_session_storage_and_401(
    page: Page, browser: Browser, stack: Stack
) -> None:
    await page.goto("/")
    prompt = page.get_by_role("dialog", name="Sign in to eventgate")
    await expect(prompt).to_be_visible()
    await expect(page.locator("#list")).to_be_hidden()
    await shot(page, "token-prompt")
    await prompt.get_by_label("API token").fill("not-a-token")
    await prompt.get_by_role("button", name="Open console").click()
    await expect(prompt.get_by_role("alert")).to_contain_text("refused the token")
    await shot(page, "token-refused")
    await prompt.get_by_label("API token").fill(ADMIN)
    await prompt.get_by_role("button", name="Open console").click()
    await expect(row(page, "Order completed")).to_be_visible()
    assert await page.evaluate("sessionStorage.getItem('eventgate.token')") == ADMIN
    assert await page.evaluate("localStorage.length") == 0
    assert await page.evaluate("document.cookie") == ""
    # the same browser session keeps it over a reload; a new session asks again
    await page.reload()
    await expect(row(page, "Order completed")).to_be_visible()
    await expect(prompt).to_be_hidden()
    other = await browser.new_context(base_url=stack.base_url)
    fresh = await other.new_page()
    await fresh.goto("/")
    await expect(fresh.get_by_role("dialog", name="Sign in to eventgate")).to_be_visible()
    await other.close()
    # a token the server stops accepting: the next request's 401 brings the prompt back
    await page.evaluate("sessionStorage.setItem('eventgate.token', 'revoked-token')")
    await (
        page.get_by_role("tablist", name="Status")
        .get_by_role("tab", name="Active", exact=True)
        .click()
    )
    await expect(prompt).to_be_visible()
    await expect(prompt.get_by_role("alert")).to_contain_text("refused the token")
    assert await page.evaluate("sessionStorage.getItem('eventgate.token')") is None
    # a read token shows the list; a change answers 403 and the switch stays as it was
    await prompt.get_by_label("API token").fill(READ)
    await prompt.get_by_role("button", name="Open console").click()
    await expect(row(page, "Page viewed")).to_be_visible()
    switch = row(page, "Page viewed").get_by_role("switch")
    await switch.click()
    await expect(page.get_by_role("status")).to_contain_text("lacks the 'admin' scope")
    await expect(switch).to_have_attribute("aria-checked", "false")
    # "Forget token" ends the session's access
    await page.get_by_role("button", name="Forget token").click()
    await expect(prompt).to_be_visible()
    assert await page.evaluate("sessionStorage.getItem('eventgate.token')") is None
