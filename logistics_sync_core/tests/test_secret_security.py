import json
from unittest import mock

from odoo.exceptions import AccessError
from odoo.modules.neutralize import get_neutralization_queries
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from .. import crypto
from ..exceptions import SecretKeyError
from .common import LogisticsSyncCase


@tagged("post_install", "-at_install")
class TestSecrets(LogisticsSyncCase):
    def setUp(self):
        super().setUp()
        self.secret = (
            self.env["logistics.sync.secret"]
            .with_user(self.manager)
            .create({"system_id": self.wms.id, "name": "api_key", "value": "sk_live_abcdef123456"})
        )

    def _stored(self):
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT ciphertext, hint FROM logistics_sync_secret WHERE id = %s", (self.secret.id,)
        )
        return self.env.cr.fetchone()

    def test_ciphertext_in_database_differs_and_decrypts(self):
        ciphertext, hint = self._stored()
        self.assertTrue(ciphertext)
        self.assertNotIn("sk_live_abcdef123456", ciphertext)
        self.assertNotIn("abcdef", ciphertext)
        self.assertEqual(hint, "…456")
        self.assertEqual(self.secret._get_plaintext(), "sk_live_abcdef123456")
        self.env.invalidate_all()  # as in a new request
        self.assertEqual(self.secret.with_user(self.manager).value, "", "never read back")

    def test_wrong_key_gives_a_clear_error(self):
        from cryptography.fernet import Fernet

        with mock.patch.dict(
            crypto.config.options, {crypto.CONFIG_OPTION: Fernet.generate_key().decode()}
        ):
            with self.assertRaisesRegex(
                SecretKeyError, "cannot be decrypted with the configured key"
            ):
                self.secret._get_plaintext()

    def test_storing_without_a_key_is_refused(self):
        with (
            mock.patch.dict(crypto.config.options, {crypto.CONFIG_OPTION: ""}),
            mock.patch.dict("os.environ", {crypto.ENV_VARIABLE: ""}),
        ):
            with self.assertRaisesRegex(SecretKeyError, "No encryption key is configured"):
                self.secret.with_user(self.manager).value = "another"

    def test_neutralization_clears_secrets_and_pauses_systems(self):
        queries = list(get_neutralization_queries(["logistics_sync_core"]))
        self.assertTrue(queries)
        self.env.flush_all()
        for query in queries:
            self.env.cr.execute(query)
        self.assertEqual(self._stored(), (None, None))
        self.env.invalidate_all()
        self.assertEqual(self.wms.state, "paused")

    def test_user_cannot_read_secrets_through_the_orm(self):
        secrets = self.env["logistics.sync.secret"].with_user(self.user)
        with self.assertRaises(AccessError), mute_logger("odoo.addons.base.models.ir_model"):
            secrets.search([])
        with self.assertRaises(AccessError), mute_logger("odoo.addons.base.models.ir_model"):
            self.secret.with_user(self.user).read(["value"])
        with self.assertRaises(AccessError):
            self.wms.with_user(self.user).read(["secret_ids"])
        # a manager who is not a system administrator sees neither ciphertext nor plaintext
        with self.assertRaises(AccessError):
            self.secret.with_user(self.manager).read(["ciphertext"])


@tagged("post_install", "-at_install")
class TestAccessRights(LogisticsSyncCase):
    def test_user_sees_activity_but_not_configuration(self):
        order = self._create_order()
        order.action_confirm()
        events = self.env["logistics.sync.event"].with_user(self.user).search([])
        self.assertTrue(events)
        self.assertTrue(self.wms.with_user(self.user).name)
        with self.assertRaises(AccessError), mute_logger("odoo.addons.base.models.ir_model"):
            self.env["logistics.sync.system"].with_user(self.user).create(
                {"name": "X", "code": "x", "kind": "wms"}
            )
        with self.assertRaises(AccessError), mute_logger("odoo.addons.base.models.ir_model"):
            self.env["logistics.sync.flow"].with_user(self.user).create(
                {
                    "name": "X",
                    "system_id": self.wms.id,
                    "event_type_ids": [(6, 0, events[:1].event_type_id.ids)],
                }
            )
        with self.assertRaises(AccessError), mute_logger("odoo.addons.base.models.ir_model"):
            events[:1].with_user(self.manager).write({"sequence": 99})
        plain = new_test_user(self.env, login="plain_employee", groups="base.group_user")
        with self.assertRaises(AccessError), mute_logger("odoo.addons.base.models.ir_model"):
            self.env["logistics.sync.event"].with_user(plain).search([])

    def test_multi_company_rules(self):
        other = self.env["res.company"].create({"name": "Other Logistics Co"})
        foreign = self.env["logistics.sync.system"].create(
            {"name": "Foreign WMS", "code": "t_foreign", "kind": "wms", "company_id": other.id}
        )
        systems = self.env["logistics.sync.system"].with_user(self.manager).search([])
        self.assertIn(self.wms, systems)
        self.assertNotIn(foreign, systems)
        self.manager.company_ids |= other
        systems = (
            self.env["logistics.sync.system"]
            .with_user(self.manager)
            .with_context(allowed_company_ids=[self.env.company.id, other.id])
            .search([])
        )
        self.assertIn(foreign, systems)


@tagged("post_install", "-at_install")
class TestSecretOverRpc(HttpCase):
    def _call_kw(self, model, method, args, kwargs=None):
        """The raw JSON-RPC answer (errors included), as a web client receives it."""
        payload = {"model": model, "method": method, "args": args, "kwargs": kwargs or {}}
        return self.url_open(
            "/web/dataset/call_kw",
            data=json.dumps({"jsonrpc": "2.0", "method": "call", "params": payload}),
            headers={"Content-Type": "application/json"},
        )

    def test_user_cannot_read_secret_over_json_rpc(self):
        manager = new_test_user(
            self.env,
            login="rpc_manager",
            groups="base.group_user,logistics_sync_core.group_logistics_sync_manager",
        )
        new_test_user(
            self.env,
            login="rpc_user",
            groups="base.group_user,logistics_sync_core.group_logistics_sync_user",
        )
        system = self.env["logistics.sync.system"].create(
            {"name": "RPC WMS", "code": "t_rpc", "kind": "wms"}
        )
        secret = (
            self.env["logistics.sync.secret"]
            .with_user(manager)
            .create({"system_id": system.id, "name": "token", "value": "tok_visible_nowhere_987"})
        )
        self.authenticate("rpc_user", "rpc_user")
        for method, args, kwargs in (
            ("search_read", [[]], {"fields": ["value", "ciphertext"]}),
            ("read", [secret.ids, ["value"]], {}),
        ):
            with mute_logger("odoo.http", "odoo.addons.base.models.ir_model"):
                response = self._call_kw("logistics.sync.secret", method, args, kwargs)
            body = response.json()
            self.assertIn("error", body)
            self.assertEqual(body["error"]["data"]["name"], "odoo.exceptions.AccessError")
            self.assertNotIn("tok_visible_nowhere_987", response.text)
        self.authenticate("rpc_manager", "rpc_manager")
        with mute_logger("odoo.http"):
            response = self._call_kw("logistics.sync.system", "read", [system.ids, ["secret_ids"]])
        self.assertNotIn("tok_visible_nowhere_987", response.text)
        self.assertNotIn(secret.sudo().ciphertext, response.text)
