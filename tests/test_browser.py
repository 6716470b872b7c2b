# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The whole story in headless Chromium, with a screenshot of each step.

Screenshots go to var/screenshots/walkthrough/ in the checkout (or to
$PARTNER_WEBSITE_LOGIN_SCREENSHOTS), where README.rst says to look.
"""

import base64
import contextlib
import json
import os
import time
from pathlib import Path
from unittest.mock import patch

from odoo.modules.module import get_module_path
from odoo.tests import HttpCase, tagged
from odoo.tests.common import ChromeBrowser

from odoo.addons.bus.models.bus import channel_with_db, dispatch, hashable
from odoo.addons.bus.websocket import WebsocketConnectionHandler

from .. import compat
from .common import MANAGER_GROUP, message_html, password_from, smtp_server
from .test_bulk_invite import BulkInviteMixin

NEW_PASSWORD = "Chosen-By-Ada-2026!"
KEY_USER_PASSWORD = "Kim-Keyuser-2026!"


def screenshots_dir():
    folder = os.environ.get("PARTNER_WEBSITE_LOGIN_SCREENSHOTS") or (
        Path(get_module_path("partner_website_login")).resolve()
        / "var"
        / "screenshots"
        / "walkthrough"
    )
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Walkthrough:
    """Odoo's headless Chromium, driven step by step: wait for what a person would
    see, act on it, take a screenshot."""

    def __init__(self, case, folder):
        self.case = case
        self.folder = folder
        self.browser = ChromeBrowser(case)
        self.stopped = False
        # 19.0 lets in only the requests of a browser given the test's cookie (one
        # browser at a time: stop() ends it)
        self.requests_allowed = contextlib.ExitStack()
        self.requests_allowed.enter_context(compat.browser_requests(case, self.browser))
        case.addCleanup(self.stop)

    def stop(self):
        if not self.stopped:
            self.stopped = True
            # the walk is over, as a finished tour is: Odoo's browser then takes a
            # fetch that its own stop() aborts ("Failed to fetch") for what it is
            if not self.browser._result.done():
                self.browser._result.set_result(True)
            self.browser.stop()
            self.requests_allowed.close()
            # a request the browser started may still run on the test's cursor:
            # the test's own ORM work waits for it
            with compat.test_request_lock(self.case):
                pass

    def evaluate(self, expression):
        result = self.browser._websocket_request(
            "Runtime.evaluate",
            params={"expression": expression, "awaitPromise": True},
            timeout=30,
        )["result"]
        return result.get("value")

    def open(self, path):
        self.browser.navigate_to(self.case.base_url() + path, wait_stop=True)

    def wait_for(self, condition, what, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.evaluate(
                f"(() => {{ try {{ return !!({condition}); }} "
                "catch (e) { return false; } })()"
            ):
                return
            time.sleep(0.2)
        self.screenshot("failed")
        self.case.fail(f"{what}: not seen within {timeout} s (at {self.path()})")

    def wait_for_selector(self, selector, what):
        self.wait_for(f"document.querySelector({json.dumps(selector)})", what)

    def click(self, selector):
        self.wait_for_selector(selector, f"{selector} to click")
        self.evaluate(f"document.querySelector({json.dumps(selector)}).click()")

    def click_text(self, selector, text):
        """Click the first ``selector`` element whose text is ``text``."""
        find = (
            f"[...document.querySelectorAll({json.dumps(selector)})]"
            f".find((element) => element.innerText.trim() === {json.dumps(text)})"
        )
        self.wait_for(find, f"{text!r} to click")
        self.evaluate(f"{find}.click()")

    def fill(self, selector, value):
        self.wait_for_selector(selector, f"{selector} to fill")
        self.evaluate(
            f"""(() => {{
                const input = document.querySelector({json.dumps(selector)});
                input.value = {json.dumps(value)};
                input.dispatchEvent(new Event("input", {{bubbles: true}}));
                input.dispatchEvent(new Event("change", {{bubbles: true}}));
            }})()"""
        )

    def path(self):
        return self.evaluate("location.pathname + location.search")

    def screenshot(self, name):
        time.sleep(0.3)  # let CSS transitions (tabs, dialogs) end
        data = self.browser._websocket_request("Page.captureScreenshot", timeout=30)
        (self.folder / f"{name}.png").write_bytes(base64.b64decode(data["data"]))


@tagged("post_install", "-at_install")
class TestBrowserWalkthrough(BulkInviteMixin, HttpCase):
    def dispatch_bus(self, channels):
        """What Odoo's bus does after a commit: tell the websockets listening on
        ``channels`` (as odoo.addons.bus.tests.common does)."""
        self.env.cr.precommit.run()  # the bus.bus records
        for channel in channels:
            key = hashable(channel_with_db(self.registry.db_name, channel))
            for websocket in dispatch._channels_to_ws.get(key, ()):
                websocket.trigger_notification_dispatching()

    browser_size = "1280x900"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_website_login()
        cls.env.ref("base.user_admin").email = "admin@ourcompany.test"
        cls.ada = cls.make_contact(name="Ada Lovelace", username="ada.l")
        # Odoo refuses websockets while a test runs; the run's form follows the run
        # through one, as bus's own WebsocketCase lets it
        cls.startClassPatcher(
            patch.object(
                WebsocketConnectionHandler, "websocket_allowed", return_value=True
            )
        )
        for old in screenshots_dir().glob("*.png"):
            old.unlink()

    def test_a_key_user_gives_a_colleague_a_login_and_takes_it_back(self):
        folder = screenshots_dir()
        kim = self.make_contact(name="Kim Keyuser", username="kim")
        self.issue(kim)
        kim.website_user_id.password = KEY_USER_PASSWORD
        kim.with_user(self.manager).website_admin = True
        self.make_contact(name="Cole Colleague", username="cole")
        with smtp_server(self.env) as smtp:
            key_user = Walkthrough(self, folder)
            self.authenticate("kim", KEY_USER_PASSWORD, browser=key_user.browser)
            key_user.open("/my")
            key_user.click("a[href='/my/colleagues']")
            key_user.wait_for_selector(".o_colleague_row", "the list of colleagues")
            key_user.screenshot("10_colleagues")
            key_user.click(".o_colleague_add")
            key_user.fill("input[name='name']", "Nina Newcomer")
            key_user.fill("input[name='email']", "nina@retailer.test")
            key_user.screenshot("11_add_colleague")
            key_user.click(".o_colleague_new_form button[type='submit']")
            key_user.wait_for(
                "document.querySelector('.o_colleagues_message')"
                ".innerText.includes('Invite sent to Nina Newcomer')",
                "the invite sent",
            )
            key_user.screenshot("12_colleague_invited")
            key_user.stop()
        nina = self.env["res.partner"].search([("email", "=", "nina@retailer.test")])
        self.assertEqual((nina.parent_id, nina.username), (self.company, "nina"))
        [message] = smtp.messages
        self.assertEqual(message["To"].addresses[0].addr_spec, "nina@retailer.test")
        password = password_from(message)

        colleague = Walkthrough(self, folder)
        self.authenticate(None, None, browser=colleague.browser)
        colleague.open("/web/login")
        colleague.fill("input[name='login']", "nina")
        colleague.fill("input[name='password']", password)
        colleague.click("form.oe_login_form button[type='submit']")
        colleague.wait_for(
            "location.pathname === '/my/security' && "
            "document.body.innerText.includes('Choose your password')",
            "the forced change of password",
        )
        colleague.fill("input[name='new1']", NEW_PASSWORD)
        colleague.fill("input[name='new2']", NEW_PASSWORD)
        colleague.click("form.oe_reset_password_form button[type='submit']")
        colleague.wait_for(
            "document.querySelector('.o_portal_my_home')", "Nina's portal home"
        )
        session_id = next(
            cookie["value"]
            for cookie in colleague.browser._websocket_request(
                "Network.getCookies", params={"urls": [self.base_url()]}
            )["cookies"]
            if cookie["name"] == "session_id"
        )
        colleague.stop()

        key_user = Walkthrough(self, folder)
        self.authenticate("kim", KEY_USER_PASSWORD, browser=key_user.browser)
        key_user.open("/my/colleagues")
        key_user.click(f"tr[data-colleague_id='{nina.id}'] .o_colleague_revoke")
        # a removal is confirmed first
        key_user.wait_for_selector(".o_colleague_revoke_confirm", "the confirmation")
        key_user.screenshot("13_colleague_remove_confirm")
        key_user.click(".o_colleague_revoke_confirm")
        key_user.wait_for(
            "document.querySelector('.o_colleagues_message')"
            ".innerText.includes('can no longer log in')",
            "the login taken back",
        )
        key_user.screenshot("13_colleague_removed")
        key_user.stop()
        # Nina's open session ended with it (the test's own session cookies out of
        # the way first: two session_id cookies would leave the server to choose)
        for cookie in list(self.opener.cookies):
            if cookie.name == "session_id":
                self.opener.cookies.clear(cookie.domain, cookie.path, cookie.name)
        self.opener.cookies.set("session_id", session_id)
        response = self.url_open("/my", allow_redirects=False)
        self.assertIn("/web/login", response.headers.get("Location", ""))
        self.assertFalse(self.authenticates("nina", NEW_PASSWORD))

    def test_send_a_password_mail_and_log_in_with_it(self):
        folder = screenshots_dir()
        with smtp_server(self.env) as smtp:
            admin = Walkthrough(self, folder)
            self.authenticate("admin", "admin", browser=admin.browser)
            admin.open(f"/odoo/contacts/{self.ada.id}")
            admin.wait_for_selector(
                ".o_form_view button[name='action_random_password_mail']",
                "the Random Password Mail button",
            )
            admin.click_text(".o_notebook .nav-link", "Website Access")
            admin.wait_for(
                "document.querySelector('.o_notebook .nav-link.active')"
                ".innerText.trim() === 'Website Access' && "
                "document.querySelector(\".o_field_widget[name='username']\")",
                "the Website Access page",
            )
            admin.screenshot("01_contact_form")
            admin.click(".o_form_view button[name='action_random_password_mail']")
            admin.wait_for_selector(
                ".modal button[name='action_send']", "the mail for review"
            )
            admin.screenshot("02_review_mail")
            admin.click(".modal button[name='action_send']")
            admin.wait_for(
                "!document.querySelector('.modal') && "
                "document.body.innerText.includes('Password mail sent')",
                "the chatter note of the sent mail",
            )
            admin.screenshot("03_mail_sent")
            admin.stop()

        [message] = smtp.messages
        self.assertIn("ada.lovelace@retailer.test", message["To"])
        password = password_from(message)
        self.assertTrue(password)

        contact = Walkthrough(self, folder)
        self.authenticate(None, None, browser=contact.browser)
        contact.open("/web/login")
        contact.fill("input[name='login']", "ada.l")
        contact.fill("input[name='password']", password)
        contact.screenshot("04_login")
        contact.click("form.oe_login_form button[type='submit']")
        contact.wait_for(
            "location.pathname === '/my/security'", "the page to set a password"
        )
        contact.open("/my")  # any portal page leads back there, and after it
        contact.wait_for(
            "location.pathname === '/my/security' && "
            "document.body.innerText.includes('Choose your password')",
            "the page to choose a password",
        )
        # only that, with the field it wants named: no two-factor set-up yet
        self.assertFalse(
            contact.evaluate("document.body.innerText.includes('Two-factor')")
        )
        # not the temporary password again (the session proves it), and how long
        # a password Odoo's policy wants
        self.assertFalse(contact.evaluate("!!document.querySelector('input#current')"))
        self.assertTrue(
            contact.evaluate(
                "document.querySelector('.o_website_password_minimum').innerText"
                ".includes('At least 8 characters')"
            )
        )
        contact.screenshot("05_must_set_password")
        contact.fill("input[name='new1']", NEW_PASSWORD)
        contact.fill("input[name='new2']", NEW_PASSWORD)
        contact.click("form.oe_reset_password_form button[type='submit']")
        # on to the portal by itself once the password is set, told so
        contact.wait_for(
            "location.pathname.startsWith('/my') && "
            "!location.pathname.startsWith('/my/security') && "
            "document.querySelector('.o_portal_my_home')",
            "the portal home page",
        )
        self.assertIn(
            "Your password is set",
            contact.evaluate(
                "document.querySelector('.o_website_password_set').innerText"
            ),
        )
        contact.screenshot("06_portal_home")
        contact.stop()
        self.ada.invalidate_recordset()
        self.assertEqual(self.ada.website_access_state, "active")

        # the administrator mails Ada and Ben together: the window shows Ada has a
        # password of her own and leaves her unticked, each name whole
        ben = self.make_contact(name="Ben Babbage", username="ben.b")
        with smtp_server(self.env) as smtp:
            admin = Walkthrough(self, folder)
            self.authenticate("admin", "admin", browser=admin.browser)
            admin.open("/odoo/contacts?view_type=list")
            for name in ("Ada Lovelace", "Ben Babbage"):
                admin.wait_for(
                    f"[...document.querySelectorAll('.o_data_row')]"
                    f".find((row) => row.innerText.includes({json.dumps(name)}))",
                    f"{name} in the list",
                )
                admin.evaluate(
                    f"[...document.querySelectorAll('.o_data_row')]"
                    f".find((row) => row.innerText.includes({json.dumps(name)}))"
                    ".querySelector('.o_list_record_selector input').click()"
                )
            admin.click(".o_control_panel .o_cp_action_menus button")
            admin.click_text(
                ".o-dropdown--menu .o-dropdown-item", "Random Password Mail"
            )
            admin.wait_for(
                "document.querySelector('.modal').innerText.includes('Active')",
                "the window's lines",
            )
            admin.screenshot("07_window_with_states")
            ada_toggle = (
                "[...document.querySelectorAll('.modal .o_data_row')]"
                ".find((row) => row.innerText.includes('Ada Lovelace'))"
                ".querySelector('.o_field_boolean_toggle input')"
            )
            self.assertFalse(admin.evaluate(f"{ada_toggle}.checked"))
            self.assertFalse(
                admin.evaluate("!!document.querySelector('.modal .alert-warning')")
            )
            # the Contact column shows each name whole, as Odoo's portal wizard
            self.assertEqual(
                admin.evaluate(
                    "[...document.querySelectorAll('.modal .o_data_row "
                    "td[name=partner_id]')].filter((cell) => cell.scrollWidth > "
                    "cell.clientWidth).length"
                ),
                0,
            )
            # ticked by the operator, the warning says what the mail would do
            admin.evaluate(f"{ada_toggle}.click()")
            admin.wait_for_selector(".modal .alert-warning", "the warning for Ada")
            admin.evaluate(f"{ada_toggle}.click()")
            admin.wait_for(
                "!document.querySelector('.modal .alert-warning')",
                "the warning gone once Ada is unticked",
            )
            admin.click(".modal button[name='action_send']")
            admin.wait_for(
                "!document.querySelector('.modal')", "the window closed after sending"
            )
            admin.stop()
        self.assertEqual(
            [m["To"].addresses[0].addr_spec for m in smtp.messages], [ben.email]
        )
        # the mail as Ben's mail program shows it: in the company's light layout
        viewer = Walkthrough(self, folder)
        encoded = base64.b64encode(message_html(smtp.messages[0]).encode()).decode()
        viewer.browser.navigate_to(f"data:text/html;base64,{encoded}", wait_stop=True)
        viewer.wait_for(
            "document.body.innerText.includes('Powered by')", "the mail's layout"
        )
        viewer.screenshot("08_mail_in_layout")
        viewer.stop()

        # the administrator starts a bulk invite from Contacts > Website Invites:
        # the run's form opens with its progress, pace and expected end
        for index in range(3):
            self.make_contact(name=f"Buyer {index}", username=f"buyer{index}")
        with smtp_server(self.env, rate_per_minute=600):
            admin = Walkthrough(self, folder)
            self.authenticate("admin", "admin", browser=admin.browser)
            admin.open("/odoo/action-partner_website_login.partner_invite_run_action")
            admin.click(".o_list_view button[name='action_start']")
            admin.wait_for(
                "document.querySelector('.o_form_view .o_field_widget[name=progress]')",
                "the run's form",
            )
            # the browser's requests read through the test's cursor: the test's
            # own queries wait for them (a query between theirs fails at random)
            with compat.test_request_lock(self):
                run = self.env["partner.invite.run"].search([], limit=1)
            admin.wait_for(
                "document.querySelector('.o_form_view .o_field_widget[name=state] "
                ".o_arrow_button_current').innerText.includes('Running')",
                "the run under way",
            )
            admin.evaluate("window.websiteLoginNotReloaded = true")
            with compat.test_request_lock(self):
                self.work_off(run)
                # the worker job's news reach the open form through Odoo's bus,
                # which a test's one transaction keeps from dispatching by itself
                self.dispatch_bus([self.env.ref(MANAGER_GROUP)])
            admin.wait_for(
                "window.websiteLoginNotReloaded && document.querySelector("
                "'.o_form_view .o_field_widget[name=state] .o_arrow_button_current')"
                ".innerText.includes('Done')",
                "the form following the run to its end, without a reload",
            )
            admin.screenshot("09_run_done")
            # how the onboarding goes: Website Invites > Invite Funnel, graph and pivot
            admin.open(
                "/odoo/action-partner_website_login.partner_invite_analysis_action"
            )
            admin.wait_for_selector(".o_graph_renderer canvas", "the invite analysis")
            # each run named in full under its bar, the counts whole numbers
            chart = "Chart.getChart(document.querySelector('.o_graph_renderer canvas'))"
            admin.wait_for(f"{chart}.scales.x.ticks.length", "the graph's bars")
            run_labels = json.loads(
                admin.evaluate(
                    f"JSON.stringify({chart}.scales.x.ticks.map("
                    "(tick) => [].concat(tick.label).join(' ')))"
                )
            )
            self.assertIn(run.display_name, run_labels)
            self.assertFalse([label for label in run_labels if label.endswith("...")])
            counts = json.loads(
                admin.evaluate(
                    f"JSON.stringify({chart}.scales.y.ticks.map((tick) => tick.label))"
                )
            )
            self.assertTrue(counts)
            self.assertFalse([count for count in counts if not count.isdigit()])
            admin.screenshot("14_invite_analysis")
            admin.click(".o_switch_view.o_pivot")
            admin.wait_for_selector(".o_pivot table", "the analysis as a pivot")
            admin.screenshot("15_invite_pivot")
            admin.stop()
        self.assertEqual(run.started_by_id, self.env.ref("base.user_admin"))
