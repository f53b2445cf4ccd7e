import json
from unittest import mock

from cryptography.fernet import Fernet

from odoo.tests import BaseCase

from .. import crypto
from ..exceptions import SecretKeyError
from ..payload import apply_policy, canonical_json, schema_errors


class TestCrypto(BaseCase):
    def test_round_trip_and_ciphertext_differs(self):
        key = Fernet.generate_key().decode()
        token = crypto.encrypt("s3cr3t-value", keys=[key])
        self.assertNotIn("s3cr3t-value", token)
        self.assertEqual(crypto.decrypt(token, keys=[key]), "s3cr3t-value")

    def test_wrong_key_is_a_clear_error(self):
        token = crypto.encrypt("s3cr3t", keys=[Fernet.generate_key().decode()])
        with self.assertRaisesRegex(SecretKeyError, "encrypted with another key"):
            crypto.decrypt(token, keys=[Fernet.generate_key().decode()])

    def test_rotation_any_key_decrypts_first_encrypts(self):
        old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
        token = crypto.encrypt("v", keys=[old])
        self.assertEqual(crypto.decrypt(token, keys=[new, old]), "v")
        with self.assertRaises(SecretKeyError):
            crypto.decrypt(crypto.encrypt("v", keys=[new, old]), keys=[old])

    def test_missing_or_invalid_key(self):
        with (
            mock.patch.dict(crypto.config.options, {crypto.CONFIG_OPTION: ""}),
            mock.patch.dict("os.environ", {crypto.ENV_VARIABLE: ""}),
        ):
            with self.assertRaisesRegex(SecretKeyError, "No encryption key is configured"):
                crypto.encrypt("x")
        with self.assertRaisesRegex(SecretKeyError, "not a valid Fernet key"):
            crypto.encrypt("x", keys=["short"])


class TestPayload(BaseCase):
    payload = {
        "order_id": "u1",
        "name": "S001",
        "partner": {"name": "Jane", "email": "j@example.com", "phone": None},
        "lines": [{"sku": "A", "quantity": 1, "price_unit": 3}, {"sku": "B", "quantity": 2}],
    }

    def test_canonical_json_is_stable(self):
        self.assertEqual(canonical_json({"b": 1, "a": [1, "é"]}), '{"a":[1,"é"],"b":1}')

    def test_allow_list_keeps_only_listed_paths_through_lists(self):
        shaped = apply_policy(self.payload, "order_id, partner.name, lines.sku")
        self.assertEqual(
            shaped,
            {
                "order_id": "u1",
                "partner": {"name": "Jane"},
                "lines": [{"sku": "A"}, {"sku": "B"}],
            },
        )

    def test_masking_replaces_values_and_keeps_empty_ones(self):
        shaped = apply_policy(self.payload, masked_fields="partner.email, partner.phone")
        self.assertEqual(shaped["partner"], {"name": "Jane", "email": "***", "phone": None})
        self.assertEqual(self.payload["partner"]["email"], "j@example.com", "input untouched")

    def test_schema_error_names_the_path(self):
        schema = json.dumps(
            {
                "type": "object",
                "properties": {
                    "lines": {"type": "array", "items": {"type": "object", "required": ["sku"]}}
                },
            }
        )
        self.assertIsNone(schema_errors(schema, {"lines": [{"sku": "A"}]}))
        path, message = schema_errors(schema, {"lines": [{"sku": "A"}, {"qty": 1}]})
        self.assertEqual(path, "$.lines[1]")
        self.assertIn("'sku' is a required property", message)
