//! Message signatures and the certificate subscribers verify them with.
//!
//! SNS signs every notification and confirmation it sends
//! (<https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html>): the
//! *string to sign* is `key\nvalue\n` for a fixed list of keys in byte order (`Subject` only when
//! present), signed with RSA PKCS#1 v1.5 over SHA-1 (`SignatureVersion` 1) or SHA-256 (2), and
//! base64-encoded. The public key is published as an X.509 certificate at `SigningCertURL`.
//!
//! Ponte generates one RSA-2048 key and a self-signed certificate per data directory at first
//! start and keeps them in the store ([`KeyMaterial`]), so signatures stay verifiable across
//! restarts.

use std::time::Duration;

use base64::Engine as _;
use rsa::RsaPrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::rand_core::OsRng;
use rsa::signature::{SignatureEncoding, Signer};
use serde::{Deserialize, Serialize};
use sha1::Sha1;
use sha2::Sha256;
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::der::EncodePem;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::SubjectPublicKeyInfoOwned;
use x509_cert::time::{Time, Validity};

use ponte_types::Millis;

/// The persisted key pair and certificate.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyMaterial {
    /// PKCS#8 PEM of the RSA private key.
    pub private_key_pem: String,
    /// PEM of the self-signed certificate.
    pub cert_pem: String,
    /// 32 hex digits naming the certificate file (`SimpleNotificationService-<id>.pem`).
    pub id: String,
}

/// `SignatureVersion` of a topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureVersion {
    /// SHA1withRSA (the default).
    V1,
    /// SHA256withRSA.
    V2,
}

impl SignatureVersion {
    /// `"1"` → V1, `"2"` → V2.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "1" => Some(Self::V1),
            "2" => Some(Self::V2),
            _ => None,
        }
    }

    /// The attribute text.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V1 => "1",
            Self::V2 => "2",
        }
    }
}

/// Signs with the server's key. Cheap to share behind an `Arc`.
pub struct MessageSigner {
    v1: SigningKey<Sha1>,
    v2: SigningKey<Sha256>,
    material: KeyMaterial,
}

impl std::fmt::Debug for MessageSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessageSigner")
            .field("id", &self.material.id)
            .finish_non_exhaustive()
    }
}

impl MessageSigner {
    /// A new RSA-2048 key and a self-signed certificate valid from a day before `now` for ten
    /// years. Takes a noticeable fraction of a second (prime search).
    pub fn generate(now: Millis) -> Result<KeyMaterial, String> {
        let key = RsaPrivateKey::new(&mut OsRng, 2048).map_err(|e| e.to_string())?;
        let private_key_pem = key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| e.to_string())?
            .to_string();
        let id = uuid::Uuid::new_v4().simple().to_string();
        let mut serial = hex::decode(&id).map_err(|e| e.to_string())?;
        // A positive, non-zero DER integer without a leading zero byte.
        serial[0] = (serial[0] & 0x7f) | 0x40;
        let day = Duration::from_secs(86_400);
        let start = Duration::from_millis(now).saturating_sub(day);
        let validity = Validity {
            not_before: Time::UtcTime(
                x509_cert::der::asn1::UtcTime::from_unix_duration(start)
                    .map_err(|e| e.to_string())?,
            ),
            not_after: Time::UtcTime(
                x509_cert::der::asn1::UtcTime::from_unix_duration(start + day * 3650)
                    .map_err(|e| e.to_string())?,
            ),
        };
        let subject: Name = "CN=sns.amazonaws.com,O=Ponte"
            .parse()
            .map_err(|e: x509_cert::der::Error| e.to_string())?;
        let signer = SigningKey::<Sha256>::new(key.clone());
        let spki =
            SubjectPublicKeyInfoOwned::from_key(key.to_public_key()).map_err(|e| e.to_string())?;
        let serial = SerialNumber::new(&serial).map_err(|e| e.to_string())?;
        let cert = CertificateBuilder::new(Profile::Root, serial, validity, subject, spki, &signer)
            .map_err(|e| e.to_string())?
            .build::<rsa::pkcs1v15::Signature>()
            .map_err(|e| e.to_string())?;
        let cert_pem = cert.to_pem(LineEnding::LF).map_err(|e| e.to_string())?;
        Ok(KeyMaterial {
            private_key_pem,
            cert_pem,
            id,
        })
    }

    /// A signer over stored key material.
    pub fn from_material(material: KeyMaterial) -> Result<Self, String> {
        let key =
            RsaPrivateKey::from_pkcs8_pem(&material.private_key_pem).map_err(|e| e.to_string())?;
        Ok(MessageSigner {
            v1: SigningKey::<Sha1>::new(key.clone()),
            v2: SigningKey::<Sha256>::new(key),
            material,
        })
    }

    /// Base64 of the RSA PKCS#1 v1.5 signature of `text`.
    pub fn sign(&self, version: SignatureVersion, text: &str) -> String {
        let bytes = match version {
            SignatureVersion::V1 => self.v1.sign(text.as_bytes()).to_vec(),
            SignatureVersion::V2 => self.v2.sign(text.as_bytes()).to_vec(),
        };
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    /// The certificate, PEM.
    pub fn cert_pem(&self) -> &str {
        &self.material.cert_pem
    }

    /// The certificate's file id.
    pub fn id(&self) -> &str {
        &self.material.id
    }

    /// The key material (for persisting).
    pub fn material(&self) -> &KeyMaterial {
        &self.material
    }
}

/// The file name of the certificate, as in AWS's `SigningCertURL`.
pub fn cert_file_name(id: &str) -> String {
    format!("SimpleNotificationService-{id}.pem")
}

/// The path the certificate is served on (the lead's router serves it).
pub fn cert_path(id: &str) -> String {
    format!("/_ponte/sns/{}", cert_file_name(id))
}

/// The string to sign of a `Notification`: Message, MessageId, Subject (if any), Timestamp,
/// TopicArn, Type.
pub fn notification_string(
    message: &str,
    message_id: &str,
    subject: Option<&str>,
    timestamp: &str,
    topic_arn: &str,
) -> String {
    let mut s = String::with_capacity(message.len() + 256);
    push(&mut s, "Message", message);
    push(&mut s, "MessageId", message_id);
    if let Some(subject) = subject {
        push(&mut s, "Subject", subject);
    }
    push(&mut s, "Timestamp", timestamp);
    push(&mut s, "TopicArn", topic_arn);
    push(&mut s, "Type", "Notification");
    s
}

/// The string to sign of a `SubscriptionConfirmation` / `UnsubscribeConfirmation`: Message,
/// MessageId, SubscribeURL, Timestamp, Token, TopicArn, Type.
pub fn confirmation_string(
    kind: &str,
    message: &str,
    message_id: &str,
    subscribe_url: &str,
    timestamp: &str,
    token: &str,
    topic_arn: &str,
) -> String {
    let mut s = String::with_capacity(message.len() + 512);
    push(&mut s, "Message", message);
    push(&mut s, "MessageId", message_id);
    push(&mut s, "SubscribeURL", subscribe_url);
    push(&mut s, "Timestamp", timestamp);
    push(&mut s, "Token", token);
    push(&mut s, "TopicArn", topic_arn);
    push(&mut s, "Type", kind);
    s
}

fn push(s: &mut String, key: &str, value: &str) {
    s.push_str(key);
    s.push('\n');
    s.push_str(value);
    s.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs1v15::{Signature, VerifyingKey};
    use rsa::signature::Verifier;
    use x509_cert::Certificate;
    use x509_cert::der::{Decode, DecodePem, Encode};

    #[test]
    fn string_to_sign_follows_the_documented_order() {
        let s = notification_string("hi", "id-1", Some("subj"), "t", "arn:t");
        assert_eq!(
            s,
            "Message\nhi\nMessageId\nid-1\nSubject\nsubj\nTimestamp\nt\nTopicArn\narn:t\nType\nNotification\n"
        );
        let no_subject = notification_string("hi", "id-1", None, "t", "arn:t");
        assert!(!no_subject.contains("Subject"));
        let c = confirmation_string("SubscriptionConfirmation", "m", "i", "u", "t", "k", "a");
        assert_eq!(
            c,
            "Message\nm\nMessageId\ni\nSubscribeURL\nu\nTimestamp\nt\nToken\nk\nTopicArn\na\nType\nSubscriptionConfirmation\n"
        );
    }

    #[test]
    fn signatures_verify_against_the_certificate() {
        let material = MessageSigner::generate(1_700_000_000_000).unwrap();
        let signer = MessageSigner::from_material(material.clone()).unwrap();
        assert_eq!(signer.id().len(), 32);
        let cert = Certificate::from_pem(material.cert_pem.as_bytes()).unwrap();
        let spki_der = cert
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .unwrap();
        use rsa::pkcs8::DecodePublicKey;
        let public = rsa::RsaPublicKey::from_public_key_der(&spki_der).unwrap();
        let text = notification_string("hello", "m1", None, "2024-01-01T00:00:00.000Z", "arn");
        for version in [SignatureVersion::V1, SignatureVersion::V2] {
            let sig = base64::engine::general_purpose::STANDARD
                .decode(signer.sign(version, &text))
                .unwrap();
            let sig = Signature::try_from(sig.as_slice()).unwrap();
            match version {
                SignatureVersion::V1 => VerifyingKey::<Sha1>::new(public.clone())
                    .verify(text.as_bytes(), &sig)
                    .unwrap(),
                SignatureVersion::V2 => VerifyingKey::<Sha256>::new(public.clone())
                    .verify(text.as_bytes(), &sig)
                    .unwrap(),
            }
        }
        // Round trip through DER as a sanity check of the encoding.
        let der = cert.to_der().unwrap();
        assert_eq!(Certificate::from_der(&der).unwrap(), cert);
    }
}
