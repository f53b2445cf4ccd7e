from datetime import timedelta

from freezegun import freeze_time
from standardwebhooks.webhooks import Webhook

from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import WebhookCase


@tagged("post_install", "-at_install")
class TestSigningKeys(WebhookCase):
    def test_generated_secret_shown_once_and_encrypted_at_rest(self):
        flow = self._subscription("Fresh", self.carrier, "/fresh")
        flow.signing_key_ids.unlink()
        action = flow.with_user(self.manager).action_generate_secret()
        message = action["params"]["message"]
        secret = message.split(": ")[-1]
        self.assertTrue(secret.startswith("whsec_"))
        key = flow.signing_key_ids
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT ciphertext FROM logistics_sync_signing_key WHERE id = %s", key.ids
        )
        self.assertNotIn(secret, self.env.cr.fetchone()[0])
        self.assertEqual(key._secrets(), [secret])
        with self.assertRaises(AccessError):
            key.with_user(self.manager).read(["ciphertext"])
        with self.assertRaises(AccessError), mute_logger("odoo.addons.base.models.ir_model"):
            key.with_user(self.user).read(["hint"])

    def test_rotation_signs_with_both_secrets_until_the_old_one_expires(self):
        old = self.secret
        action = self.flow.with_user(self.manager).action_rotate_secret(overlap_hours=24)
        new = action["params"]["message"].split(": ")[-1]
        order = self._confirmed_order()
        self.flow.deliver_pending()
        [request] = self.receiver.received("/hook")
        headers = {k.lower(): v for k, v in request["headers"].items()}
        self.assertEqual(len(headers["webhook-signature"].split(" ")), 2)
        Webhook(old).verify(request["body"], headers)
        Webhook(new).verify(request["body"], headers)
        with freeze_time(self.flow.signing_key_ids.mapped("expires_at")[0] + timedelta(seconds=1)):
            self.assertEqual(self.flow.signing_key_ids._secrets(), [new])
        self.assertTrue(order)

    def test_ed25519_key_signs_v1a(self):
        flow = self._subscription("Asymmetric", self.carrier, "/ed")
        flow.signing_key_ids.unlink()
        action = flow.with_user(self.manager).action_generate_ed25519()
        public = flow.signing_key_ids.public_key
        self.assertIn(public, action["params"]["message"])
        self.assertTrue(public.startswith("whpk_"))
        order = self._confirmed_order()
        flow.deliver_pending()
        [request] = self.receiver.received("/ed")
        self.assertTrue(request["headers"]["webhook-signature"].startswith("v1a,"))
        from ..signing import verify

        headers = {k.lower(): v for k, v in request["headers"].items()}
        self.assertEqual(
            verify(headers, request["body"], [public]), self._messages(order, flow).uid
        )


@tagged("post_install", "-at_install")
class TestReplay(WebhookCase):
    def _dead_message(self):
        self.flow.retry_schedule = "0"
        self.receiver.script["/hook"] = [500]
        order = self._confirmed_order()
        self.flow.deliver_pending()
        message = self._messages(order)
        self.assertEqual(message.state, "dead")
        self.receiver.script["/hook"] = [200]
        return message

    def test_replay_selection_keeps_the_id_dry_run_first(self):
        message = self._dead_message()
        Wizard = self.env["logistics.sync.replay.wizard"].with_user(self.manager)
        wizard = Wizard.with_context(
            active_model="logistics.sync.message", active_ids=message.ids
        ).create({})
        wizard.action_dry_run()
        self.assertIn(message.uid, wizard.preview)
        self.assertEqual(message.state, "dead", "a dry run sends nothing")
        wizard.action_replay()
        self.assertEqual(message.state, "pending")
        self.flow.deliver_pending()
        self.assertEqual(message.state, "sent")
        ids = [r["headers"]["webhook-id"] for r in self.receiver.received("/hook")]
        self.assertEqual(ids, [message.uid, message.uid])

    def test_replay_window_as_new_gets_a_new_id(self):
        message = self._dead_message()
        old_uid = message.uid
        wizard = (
            self.env["logistics.sync.replay.wizard"]
            .with_user(self.manager)
            .create(
                {
                    "scope": "window",
                    "system_id": self.wms.id,
                    "date_from": message.write_date - timedelta(minutes=1),
                    "as_new": True,
                }
            )
        )
        wizard.action_replay()
        self.assertNotEqual(message.uid, old_uid)
        self.flow.deliver_pending()
        self.assertEqual(self.receiver.received("/hook")[-1]["headers"]["webhook-id"], message.uid)

    def test_replay_is_for_managers_only(self):
        message = self._dead_message()
        with self.assertRaises(AccessError), mute_logger("odoo.addons.base.models.ir_model"):
            self.env["logistics.sync.replay.wizard"].with_user(self.user).create(
                {"message_ids": [(6, 0, message.ids)]}
            )
