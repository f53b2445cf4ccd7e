import base64
from datetime import datetime, timezone

from freezegun import freeze_time
from standardwebhooks.webhooks import Webhook as StandardWebhook
from standardwebhooks.webhooks import WebhookVerificationError
from svix.webhooks import Webhook as SvixWebhook

from odoo.tests import BaseCase

from ..signing import (
    SignatureError,
    generate_ed25519_keypair,
    generate_hmac_secret,
    headers,
    public_key_from_secret,
    sign,
    verify,
)

# Published test vector of the Standard Webhooks reference libraries.
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIMESTAMP = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_V1 = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
VECTOR_SEED = "VEVTVFNJR05JTkdLRVlET05PVFVTRVRISVNGT1JBTlk="
VECTOR_V1A = (
    "v1a,tQ9V2XOqn7jL/DQenEFpqIugdBVtiMmER5mhSkXBNwM0mkATuDe6KYYUuxqtaiHeYGb7KaaBRdM5WqyeFiL8Ag=="
)

# The reference libraries read the real clock; freezegun pins it to this instant.
FROZEN_NOW = "2025-03-01 12:00:00"
FROZEN_TS = 1740830400
BODY = '{"event": "shipment.delivered", "id": "é"}'.encode()


class TestSigning(BaseCase):
    def _verify_vector(self, hdrs, secrets):
        return verify(hdrs, VECTOR_BODY, secrets, now=VECTOR_TIMESTAMP)

    def _assert_refused(self, code, hdrs, body=VECTOR_BODY, secrets=(VECTOR_SECRET,), now=None):
        with self.assertRaises(SignatureError) as caught:
            verify(hdrs, body, list(secrets), now=VECTOR_TIMESTAMP if now is None else now)
        self.assertEqual(caught.exception.code, code, caught.exception.reason)
        return caught.exception

    def test_hmac_test_vector(self):
        self.assertEqual(sign(VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY, [VECTOR_SECRET]), VECTOR_V1)
        hdrs = {
            "webhook-id": VECTOR_ID,
            "webhook-timestamp": str(VECTOR_TIMESTAMP),
            "webhook-signature": VECTOR_V1,
        }
        self.assertEqual(self._verify_vector(hdrs, [VECTOR_SECRET]), VECTOR_ID)

    def test_ed25519_test_vector(self):
        signing_key = "whsk_" + VECTOR_SEED
        self.assertEqual(sign(VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY, [signing_key]), VECTOR_V1A)
        hdrs = {
            "webhook-id": VECTOR_ID,
            "webhook-timestamp": str(VECTOR_TIMESTAMP),
            "webhook-signature": VECTOR_V1A,
        }
        public_key = public_key_from_secret(signing_key)
        self.assertTrue(public_key.startswith("whpk_"))
        self.assertEqual(self._verify_vector(hdrs, [public_key]), VECTOR_ID)

    def test_generate_hmac_secret(self):
        secret = generate_hmac_secret()
        self.assertTrue(secret.startswith("whsec_"))
        self.assertEqual(len(base64.b64decode(secret[len("whsec_") :])), 32)
        self.assertNotEqual(secret, generate_hmac_secret())
        hdrs = headers("msg_1", VECTOR_TIMESTAMP, VECTOR_BODY, [secret])
        self.assertEqual(self._verify_vector(hdrs, [secret]), "msg_1")

    def test_generate_ed25519_keypair(self):
        signing_key, public_key = generate_ed25519_keypair()
        self.assertTrue(signing_key.startswith("whsk_"))
        self.assertTrue(public_key.startswith("whpk_"))
        self.assertEqual(len(base64.b64decode(signing_key[len("whsk_") :])), 32)
        self.assertEqual(len(base64.b64decode(public_key[len("whpk_") :])), 32)
        self.assertEqual(public_key_from_secret(signing_key), public_key)
        hdrs = headers("msg_1", VECTOR_TIMESTAMP, VECTOR_BODY, [signing_key])
        self.assertTrue(hdrs["webhook-signature"].startswith("v1a,"))
        self.assertEqual(self._verify_vector(hdrs, [public_key]), "msg_1")
        # A different key pair must not verify it.
        self._assert_refused(
            SignatureError.NO_MATCHING_SIGNATURE, hdrs, secrets=[generate_ed25519_keypair()[1]]
        )

    def test_headers(self):
        hdrs = headers(VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY, [VECTOR_SECRET])
        self.assertEqual(
            hdrs,
            {
                "webhook-id": VECTOR_ID,
                "webhook-timestamp": "1614265330",
                "webhook-signature": VECTOR_V1,
            },
        )

    def test_rotation(self):
        old, new = VECTOR_SECRET, generate_hmac_secret()
        hdrs = headers(VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY, [old, new])
        entries = hdrs["webhook-signature"].split(" ")
        self.assertEqual(len(entries), 2)
        self.assertEqual(entries[0], VECTOR_V1)
        # A receiver that knows only one of the two keys, or both, accepts.
        for secrets in ([old], [new], [new, old], [generate_hmac_secret(), new]):
            with self.subTest(secrets=len(secrets)):
                self.assertEqual(self._verify_vector(hdrs, secrets), VECTOR_ID)
        self._assert_refused(
            SignatureError.NO_MATCHING_SIGNATURE, hdrs, secrets=[generate_hmac_secret()]
        )

    def test_rotation_hmac_to_ed25519(self):
        signing_key, public_key = generate_ed25519_keypair()
        hdrs = headers(VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY, [VECTOR_SECRET, signing_key])
        self.assertEqual([e[:3] for e in hdrs["webhook-signature"].split()], ["v1,", "v1a"])
        self.assertEqual(self._verify_vector(hdrs, [VECTOR_SECRET]), VECTOR_ID)
        self.assertEqual(self._verify_vector(hdrs, [public_key]), VECTOR_ID)

    def test_header_names(self):
        cases = {
            "upper case": {
                "Webhook-Id": VECTOR_ID,
                "WEBHOOK-TIMESTAMP": str(VECTOR_TIMESTAMP),
                "Webhook-Signature": VECTOR_V1,
            },
            "svix": {
                "svix-id": VECTOR_ID,
                "Svix-Timestamp": str(VECTOR_TIMESTAMP),
                "svix-signature": VECTOR_V1,
            },
        }
        for label, hdrs in cases.items():
            with self.subTest(label):
                self.assertEqual(self._verify_vector(hdrs, [VECTOR_SECRET]), VECTOR_ID)

    def test_tampering_rejected(self):
        good = headers(VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY, [VECTOR_SECRET])
        cases = {
            "body": (good, VECTOR_BODY + b" "),
            "id": ({**good, "webhook-id": VECTOR_ID + "x"}, VECTOR_BODY),
            "timestamp": ({**good, "webhook-timestamp": str(VECTOR_TIMESTAMP + 1)}, VECTOR_BODY),
        }
        for label, (hdrs, body) in cases.items():
            with self.subTest(label):
                self._assert_refused(SignatureError.NO_MATCHING_SIGNATURE, hdrs, body=body)

    def test_timestamp_window(self):
        hdrs = headers(VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY, [VECTOR_SECRET])
        # Exactly at the tolerance is still accepted, one second beyond is not.
        for now in (VECTOR_TIMESTAMP - 300, VECTOR_TIMESTAMP + 300):
            self.assertEqual(verify(hdrs, VECTOR_BODY, [VECTOR_SECRET], now=now), VECTOR_ID)
        error = self._assert_refused(
            SignatureError.TIMESTAMP_TOO_OLD, hdrs, now=VECTOR_TIMESTAMP + 301
        )
        self.assertIn("past", error.reason)
        error = self._assert_refused(
            SignatureError.TIMESTAMP_TOO_NEW, hdrs, now=VECTOR_TIMESTAMP - 301
        )
        self.assertIn("future", error.reason)
        with self.assertRaises(SignatureError) as caught:
            verify(hdrs, VECTOR_BODY, [VECTOR_SECRET], tolerance=10, now=VECTOR_TIMESTAMP + 11)
        self.assertEqual(caught.exception.code, SignatureError.TIMESTAMP_TOO_OLD)

    def test_bad_timestamp(self):
        good = headers(VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY, [VECTOR_SECRET])
        for value in ("soon", "1614265330.0", "-1614265330", "+1614265330", "1e9", "१२३"):
            with self.subTest(value=value):
                self._assert_refused(
                    SignatureError.BAD_TIMESTAMP, {**good, "webhook-timestamp": value}
                )

    def test_missing_headers(self):
        good = headers(VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY, [VECTOR_SECRET])
        error = self._assert_refused(SignatureError.MISSING_HEADERS, {})
        self.assertIn("webhook-signature", error.reason)
        for name in good:
            for value in (None, "", "  "):
                with self.subTest(name=name, value=value):
                    hdrs = {k: v for k, v in good.items() if k != name}
                    if value is not None:
                        hdrs[name] = value
                    error = self._assert_refused(SignatureError.MISSING_HEADERS, hdrs)
                    self.assertIn(name, error.reason)

    def test_malformed_entries(self):
        good = headers(VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY, [VECTOR_SECRET])
        zeros = base64.b64encode(bytes(64)).decode()
        malformed = [
            "garbage",
            "v1",
            "v1,",
            ",",
            "v1,!!!not base64!!!",
            "v1,YWJj",  # valid base64, wrong length
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE",  # padding stripped
            "v1a,c2hvcnQ=",
            f"v1a,{zeros}",
            "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",  # right MAC, unknown version
            "v1,a,b,c",
            f"v1,{'A' * 44}\tv1a,c2hvcnQ=",  # tab-separated, both wrong
        ]
        signing_key, public_key = generate_ed25519_keypair()
        for value in malformed:
            with self.subTest(value=value):
                self._assert_refused(
                    SignatureError.NO_MATCHING_SIGNATURE,
                    {**good, "webhook-signature": value},
                    secrets=[VECTOR_SECRET, public_key],
                )
        # Garbage next to a valid entry does not prevent the valid one from matching.
        noisy = {**good, "webhook-signature": " ".join([*malformed, VECTOR_V1])}
        self.assertEqual(self._verify_vector(noisy, [VECTOR_SECRET, public_key]), VECTOR_ID)

    def test_signature_error_is_value_error(self):
        self.assertTrue(issubclass(SignatureError, ValueError))

    def test_key_errors(self):
        signing_key, public_key = generate_ed25519_keypair()
        hdrs = headers(VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY, [VECTOR_SECRET])
        for bad in ([], [public_key], ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"], ["whsec_!!"]):
            with self.subTest(sign_with=bad), self.assertRaises(ValueError) as caught:
                sign(VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY, bad)
            self.assertNotIsInstance(caught.exception, SignatureError)
        for bad in ([], [signing_key], ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"], ["whpk_c2hvcnQ="]):
            with self.subTest(verify_with=bad), self.assertRaises(ValueError) as caught:
                verify(hdrs, VECTOR_BODY, bad, now=VECTOR_TIMESTAMP)
            self.assertNotIsInstance(caught.exception, SignatureError)
            # Key material never ends up in an error message.
            self.assertNotIn("MfKQ9r8G", str(caught.exception))
            self.assertNotIn(signing_key[5:], str(caught.exception))

    def test_argument_types(self):
        with self.assertRaises(TypeError):
            sign(VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY.decode(), [VECTOR_SECRET])
        with self.assertRaises(TypeError):
            sign(VECTOR_ID, float(VECTOR_TIMESTAMP), VECTOR_BODY, [VECTOR_SECRET])
        with self.assertRaises(TypeError):
            verify({}, VECTOR_BODY.decode(), [VECTOR_SECRET])
        # A single key given as a string is one key, not a list of characters.
        self.assertEqual(sign(VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY, VECTOR_SECRET), VECTOR_V1)


@freeze_time(FROZEN_NOW)
class TestSigningInterop(BaseCase):
    """What partners using the reference libraries will do with our messages, and vice versa."""

    def setUp(self):
        super().setUp()
        self.secret = generate_hmac_secret()

    def test_frozen_clock(self):
        self.assertEqual(int(datetime.now(timezone.utc).timestamp()), FROZEN_TS)

    def test_standardwebhooks_verifies_ours(self):
        hdrs = headers("msg_interop", FROZEN_TS, BODY, [self.secret])
        payload = StandardWebhook(self.secret).verify(BODY, hdrs)
        self.assertEqual(payload["event"], "shipment.delivered")

    def test_standardwebhooks_verifies_ours_during_ed25519_rotation(self):
        # The library knows only v1 and must skip our v1a entry, not choke on it.
        signing_key, _public_key = generate_ed25519_keypair()
        hdrs = headers("msg_interop", FROZEN_TS, BODY, [signing_key, self.secret])
        self.assertEqual(StandardWebhook(self.secret).verify(BODY, hdrs)["id"], "é")

    def test_svix_verifies_ours(self):
        hdrs = headers("msg_interop", FROZEN_TS, BODY, [self.secret])
        svix_hdrs = {name.replace("webhook-", "svix-"): value for name, value in hdrs.items()}
        for label, candidate in (("webhook-*", hdrs), ("svix-*", svix_hdrs)):
            with self.subTest(label):
                # svix returns None on success and raises otherwise.
                self.assertIsNone(SvixWebhook(self.secret).verify(BODY, candidate))

    def test_we_verify_theirs(self):
        when = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)
        for label, library in (("standardwebhooks", StandardWebhook), ("svix", SvixWebhook)):
            with self.subTest(label):
                signature = library(self.secret).sign("msg_theirs", when, BODY.decode())
                hdrs = {
                    "svix-id": "msg_theirs",
                    "svix-timestamp": str(FROZEN_TS),
                    "svix-signature": signature,
                }
                self.assertEqual(verify(hdrs, BODY, [self.secret]), "msg_theirs")

    def test_libraries_refuse_tampering(self):
        hdrs = headers("msg_interop", FROZEN_TS, BODY, [self.secret])
        with self.assertRaises(WebhookVerificationError):
            StandardWebhook(self.secret).verify(BODY + b" ", hdrs)
        with self.assertRaises(WebhookVerificationError):
            SvixWebhook(self.secret).verify(BODY, {**hdrs, "webhook-id": "msg_other"})
