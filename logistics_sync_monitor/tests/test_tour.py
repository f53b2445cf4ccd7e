import shutil

from odoo.tests import HttpCase, tagged
from odoo.tests.common import ChromeBrowser

from .common import MonitorCase

_CHROME_START = ChromeBrowser._chrome_start


def _chrome_start(self, *args, **kwargs):
    # Debian's Chromium run by root, without network: no component updates either (Odoo
    # already passes --headless, --no-sandbox and --disable-background-networking).
    spawn = self._spawn_chrome

    def spawn_with_flags(cmd):
        return spawn([cmd[0], "--disable-component-update", *cmd[1:]])

    self._spawn_chrome = spawn_with_flags
    return _CHROME_START(self, *args, **kwargs)


@tagged("post_install", "-at_install")
class TestDeskTour(MonitorCase, HttpCase):
    def test_dashboard_tile_assign_and_resolve_in_the_browser(self):
        # a browser that cannot start would skip the test in silence: fail instead
        self.assertTrue(
            shutil.which("chromium") or shutil.which("google-chrome"),
            "Chromium is missing: ./dev test installs Debian's chromium package",
        )
        order, message = self._routed_order()
        order.client_order_ref = "S-TOUR"
        exception, _status = self.Exception._open(
            "dead_letter",
            "tour",
            {"name": "Tour S-TOUR did not reach Test WMS", "warehouse_id": self.warehouse.id},
        )
        self.patch(ChromeBrowser, "_chrome_start", _chrome_start)
        self.start_tour(
            "/odoo/action-logistics_sync_monitor.logistics_sync_dashboard_action_staff",
            "logistics_sync_monitor_desk",
            login="ls_clerk",
        )
        self.assertEqual(exception.state, "resolved")
        self.assertEqual((exception.user_id, exception.resolved_by_id), (self.clerk, self.clerk))
        self.assertEqual(exception.resolution, "manual")
        self.assertTrue(message)
