//! The test authenticator itself, checked against webauthn-rs-core directly (no server), so a
//! failing end-to-end test points at the server rather than at the tool.

use std::time::Duration;

use crate::authenticator::{SoftAuthenticator, Tamper};
use url::Url;
use webauthn_rs_core::error::WebauthnError;
use webauthn_rs_core::proto::{
    AttestationConveyancePreference, AuthenticationResult, Credential, PublicKeyCredential,
    RegisterPublicKeyCredential, UserVerificationPolicy,
};
use webauthn_rs_core::WebauthnCore;

const RP_ID: &str = "login.example.com";
const ORIGIN: &str = "https://login.example.com";

fn core() -> WebauthnCore {
    WebauthnCore::new_unsafe_experts_only(
        "Example",
        RP_ID,
        vec![Url::parse(ORIGIN).unwrap()],
        Duration::from_secs(300),
        None,
        None,
    )
}

fn try_register(
    core: &WebauthnCore,
    auth: &mut SoftAuthenticator,
    tamper: &Tamper,
) -> Result<Credential, WebauthnError> {
    let builder = core
        .new_challenge_register_builder(b"user-handle-alice", "alice", "Alice")?
        .user_verification_policy(UserVerificationPolicy::Required)
        .require_resident_key(true)
        .attestation(AttestationConveyancePreference::None);
    let (ccr, state) = core.generate_challenge_register(builder)?;
    let options = serde_json::to_value(&ccr).unwrap();
    let resp = auth.create(&options, ORIGIN, tamper).expect("create");
    let reg: RegisterPublicKeyCredential = serde_json::from_value(resp).expect("parse reg");
    core.register_credential(&reg, &state, None)
}

fn register(core: &WebauthnCore, auth: &mut SoftAuthenticator) -> Credential {
    try_register(core, auth, &Tamper::default()).expect("registration")
}

fn authenticate(
    core: &WebauthnCore,
    auth: &mut SoftAuthenticator,
    cred: &Credential,
    tamper: &Tamper,
) -> Result<AuthenticationResult, WebauthnError> {
    let b = core.new_challenge_authenticate_builder(
        vec![cred.clone()],
        Some(UserVerificationPolicy::Required),
    )?;
    let (rcr, state) = core.generate_challenge_authenticate(b)?;
    let options = serde_json::to_value(&rcr).unwrap();
    let resp = auth.get(&options, ORIGIN, tamper).expect("get");
    let pkc: PublicKeyCredential = serde_json::from_value(resp).expect("parse assertion");
    core.authenticate_credential(&pkc, &state)
}

/// What an RP does with an AuthenticationResult (webauthn-rs' Passkey::update_credential).
fn update(cred: &mut Credential, r: &AuthenticationResult) {
    if r.counter() > cred.counter {
        cred.counter = r.counter();
    }
    cred.backup_state = r.backup_state();
    cred.backup_eligible = r.backup_eligible();
}

#[test]
fn register_and_authenticate_twice() {
    let core = core();
    let mut auth = SoftAuthenticator::new();
    let mut cred = register(&core, &mut auth);
    assert_eq!(cred.counter, 0);
    assert!(!cred.backup_eligible);
    assert!(cred.user_verified);
    assert_eq!(auth.credentials().len(), 1);
    assert_eq!(auth.credentials()[0].id, cred.cred_id.as_slice());
    assert_eq!(auth.credentials()[0].user_handle, b"user-handle-alice");
    assert_eq!(auth.credentials()[0].rp_id, RP_ID);

    let r1 = authenticate(&core, &mut auth, &cred, &Tamper::default()).expect("auth 1");
    assert_eq!(r1.counter(), 1);
    assert!(r1.user_verified());
    update(&mut cred, &r1);

    let r2 = authenticate(&core, &mut auth, &cred, &Tamper::default()).expect("auth 2");
    assert_eq!(r2.counter(), 2);
    assert_eq!(auth.credentials()[0].counter, 2);
}

#[test]
fn get_with_and_discoverable() {
    let core = core();
    let mut auth = SoftAuthenticator::new();
    let cred1 = register(&core, &mut auth);
    let cred2 = register(&core, &mut auth);

    // Discoverable request (no allowCredentials): picks the newest credential.
    let req = serde_json::json!({"publicKey": {"challenge": "AAAA", "rpId": RP_ID}});
    let resp = auth.get(&req, ORIGIN, &Tamper::default()).unwrap();
    let raw = base64::Engine::decode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        resp["rawId"].as_str().unwrap(),
    )
    .unwrap();
    assert_eq!(raw, cred2.cred_id.as_slice());

    // allowCredentials restricts to cred1.
    let r = authenticate(&core, &mut auth, &cred1, &Tamper::default()).expect("auth cred1");
    assert_eq!(r.cred_id(), &cred1.cred_id);

    // get_with chooses explicitly.
    let b = core
        .new_challenge_authenticate_builder(
            vec![cred1.clone()],
            Some(UserVerificationPolicy::Required),
        )
        .unwrap();
    let (rcr, state) = core.generate_challenge_authenticate(b).unwrap();
    let options = serde_json::to_value(&rcr).unwrap();
    let resp = auth
        .get_with(
            cred1.cred_id.as_slice(),
            &options,
            ORIGIN,
            &Tamper::default(),
        )
        .unwrap();
    let pkc: PublicKeyCredential = serde_json::from_value(resp).unwrap();
    let r = core
        .authenticate_credential(&pkc, &state)
        .expect("get_with");
    assert_eq!(r.counter(), 2);
}

#[test]
fn exclude_credentials_honoured() {
    let core = core();
    let mut auth = SoftAuthenticator::new();
    let cred = register(&core, &mut auth);
    let builder = core
        .new_challenge_register_builder(b"user-handle-alice", "alice", "Alice")
        .unwrap()
        .exclude_credentials(Some(vec![cred.cred_id.clone()]));
    let (ccr, _state) = core.generate_challenge_register(builder).unwrap();
    let options = serde_json::to_value(&ccr).unwrap();
    assert_eq!(
        auth.create(&options, ORIGIN, &Tamper::default())
            .unwrap_err(),
        "excluded"
    );
}

#[test]
fn synced_counter_stays_zero() {
    let core = core();
    let mut auth = SoftAuthenticator::synced();
    let mut cred = register(&core, &mut auth);
    assert!(cred.backup_eligible);
    assert!(cred.backup_state);
    assert_eq!(cred.counter, 0);
    for _ in 0..2 {
        let r = authenticate(&core, &mut auth, &cred, &Tamper::default()).expect("auth");
        assert_eq!(r.counter(), 0);
        assert!(r.backup_eligible());
        assert!(r.backup_state());
        update(&mut cred, &r);
    }
    assert_eq!(auth.credentials()[0].counter, 0);
}

fn auth_err(tamper: Tamper) -> WebauthnError {
    let core = core();
    let mut auth = SoftAuthenticator::new();
    let cred = register(&core, &mut auth);
    authenticate(&core, &mut auth, &cred, &tamper).expect_err("tampered assertion must fail")
}

fn reg_err(tamper: Tamper) -> WebauthnError {
    let core = core();
    let mut auth = SoftAuthenticator::new();
    try_register(&core, &mut auth, &tamper).expect_err("tampered registration must fail")
}

#[test]
fn tamper_origin() {
    let t = Tamper {
        origin: Some("https://evil.example.com".into()),
        ..Default::default()
    };
    assert!(matches!(
        auth_err(t.clone()),
        WebauthnError::InvalidRPOrigin
    ));
    assert!(matches!(reg_err(t), WebauthnError::InvalidRPOrigin));
}

#[test]
fn tamper_rp_id_hash() {
    let t = Tamper {
        rp_id_hash_of: Some("evil.example.com".into()),
        ..Default::default()
    };
    assert!(matches!(
        auth_err(t.clone()),
        WebauthnError::InvalidRPIDHash
    ));
    assert!(matches!(reg_err(t), WebauthnError::InvalidRPIDHash));
}

#[test]
fn tamper_challenge() {
    let t = Tamper {
        challenge: Some(vec![0u8; 32]),
        ..Default::default()
    };
    assert!(matches!(
        auth_err(t.clone()),
        WebauthnError::MismatchedChallenge
    ));
    assert!(matches!(reg_err(t), WebauthnError::MismatchedChallenge));
}

#[test]
fn tamper_uv() {
    let t = Tamper {
        uv: Some(false),
        ..Default::default()
    };
    assert!(matches!(
        auth_err(t.clone()),
        WebauthnError::UserNotVerified
    ));
    assert!(matches!(reg_err(t), WebauthnError::UserNotVerified));
}

#[test]
fn tamper_up() {
    let t = Tamper {
        up: Some(false),
        ..Default::default()
    };
    assert!(matches!(auth_err(t.clone()), WebauthnError::UserNotPresent));
    assert!(matches!(reg_err(t), WebauthnError::UserNotPresent));
}

#[test]
fn tamper_type() {
    let t = Tamper {
        type_: Some("webauthn.create".into()),
        ..Default::default()
    };
    assert!(matches!(auth_err(t), WebauthnError::InvalidClientDataType));
}

#[test]
fn tamper_signature() {
    for _ in 0..10 {
        let e = auth_err(Tamper {
            flip_signature_byte: true,
            ..Default::default()
        });
        assert!(
            matches!(
                e,
                WebauthnError::AuthenticationFailure | WebauthnError::SignatureInvalid
            ),
            "unexpected error {e:?}"
        );
    }
}

#[test]
fn tamper_counter_regression() {
    let core = core();
    let mut auth = SoftAuthenticator::new();
    let mut cred = register(&core, &mut auth);
    let r = authenticate(&core, &mut auth, &cred, &Tamper::default()).expect("auth 1");
    assert_eq!(r.counter(), 1);
    update(&mut cred, &r);
    let e = authenticate(
        &core,
        &mut auth,
        &cred,
        &Tamper {
            counter: Some(0),
            ..Default::default()
        },
    )
    .expect_err("counter regression must fail");
    assert!(
        matches!(e, WebauthnError::CredentialPossibleCompromise),
        "got {e:?}"
    );
    // The stored counter was not touched by the forced value; next honest one is 2.
    let r = authenticate(&core, &mut auth, &cred, &Tamper::default()).expect("auth 3");
    assert_eq!(r.counter(), 2);
}

#[test]
fn omit_user_handle_still_verifies_when_user_known() {
    let core = core();
    let mut auth = SoftAuthenticator::new();
    let cred = register(&core, &mut auth);
    let b = core
        .new_challenge_authenticate_builder(
            vec![cred.clone()],
            Some(UserVerificationPolicy::Required),
        )
        .unwrap();
    let (rcr, state) = core.generate_challenge_authenticate(b).unwrap();
    let options = serde_json::to_value(&rcr).unwrap();
    let resp = auth
        .get(
            &options,
            ORIGIN,
            &Tamper {
                omit_user_handle: true,
                ..Default::default()
            },
        )
        .unwrap();
    assert!(resp["response"].get("userHandle").is_none());
    let pkc: PublicKeyCredential = serde_json::from_value(resp).unwrap();
    assert!(pkc.response.user_handle.is_none());
    core.authenticate_credential(&pkc, &state)
        .expect("user was identified beforehand");
}
