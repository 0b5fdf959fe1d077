//! Unit tests of signing, verification and decoding (the property tests are in
//! `protocol/tests/protocol/roundtrip.rs`).
use super::*;

const ALICE: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyX2lkIjoiYWxpY2UifQ.YbDM4fmZOvvxOWjBdMVV--0AGcSWNENiVdni8bfgD_M";
const SERVER: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzZXJ2ZXIiOnRydWV9.DHnfQolWsEGFcTR7ZwVBbIVUFAvxzDJXzB6UlyU-7JQ";
const NOW: i64 = 1_700_000_000;

fn opts() -> VerifyOptions {
    VerifyOptions::default()
}

fn jw_validation() -> jsonwebtoken::Validation {
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    v.required_spec_claims.clear();
    v.validate_exp = false;
    v
}

#[test]
fn reference_tokens_are_byte_identical() {
    assert_eq!(user_token(b"secret", "alice", None), ALICE);
    assert_eq!(server_token(b"secret"), SERVER);
    assert_eq!(
        verify(ALICE, b"secret", NOW, &opts()).unwrap(),
        Claims::user("alice")
    );
    assert!(verify(SERVER, b"secret", NOW, &opts()).unwrap().is_server());
}

#[test]
fn ours_verify_with_jsonwebtoken() {
    let token = sign(
        &Claims {
            exp: Some(NOW + 3600),
            iat: Some(NOW),
            ..Claims::user("bob").clone()
        },
        b"k3y",
    );
    let key = jsonwebtoken::DecodingKey::from_secret(b"k3y");
    let data = jsonwebtoken::decode::<Value>(&token, &key, &jw_validation()).unwrap();
    assert_eq!(data.claims["user_id"], "bob");
    assert_eq!(data.claims["exp"], NOW + 3600);
    let wrong = jsonwebtoken::DecodingKey::from_secret(b"nope");
    assert!(jsonwebtoken::decode::<Value>(&token, &wrong, &jw_validation()).is_err());
}

#[test]
fn jsonwebtoken_tokens_verify_with_ours() {
    let claims = serde_json::json!({"user_id": "carol", "exp": NOW + 60, "role": "x"});
    let key = jsonwebtoken::EncodingKey::from_secret(b"k3y");
    let token = jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).unwrap();
    let got = verify(&token, b"k3y", NOW, &opts()).unwrap();
    assert_eq!(got.user_id.as_deref(), Some("carol"));
    assert_eq!(got.extra["role"], "x");
    assert_eq!(
        verify(&token, b"bad", NOW, &opts()),
        Err(JwtError::Signature)
    );
}

#[test]
fn other_algorithms_are_rejected() {
    let key = jsonwebtoken::EncodingKey::from_secret(b"k3y");
    let hs512 = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS512),
        &Claims::user("a"),
        &key,
    )
    .unwrap();
    assert_eq!(
        verify(&hs512, b"k3y", NOW, &opts()),
        Err(JwtError::UnsupportedAlgorithm("HS512".into()))
    );
    let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let none = format!("{none_header}.eyJ1c2VyX2lkIjoiYWxpY2UifQ.");
    let err = verify(&none, b"k3y", NOW, &opts()).unwrap_err();
    assert_eq!(err, JwtError::UnsupportedAlgorithm("none".into()));
    assert_eq!(err.code(), codes::AUTHENTICATION);
}

#[test]
fn tampered_tokens_are_rejected() {
    let mut sig_flipped = ALICE.to_owned();
    let last = sig_flipped.pop().unwrap();
    sig_flipped.push(if last == 'A' { 'B' } else { 'A' });
    assert_eq!(
        verify(&sig_flipped, b"secret", NOW, &opts()),
        Err(JwtError::Signature)
    );
    let other_payload = ALICE.replace("eyJ1c2VyX2lkIjoiYWxpY2UifQ", "eyJ1c2VyX2lkIjoiYWRtaW4ifQ");
    assert_eq!(
        verify(&other_payload, b"secret", NOW, &opts()),
        Err(JwtError::Signature)
    );
    assert_eq!(
        verify(ALICE, b"Secret", NOW, &opts()).unwrap_err().code(),
        43
    );
}

#[test]
fn time_claims_map_to_stream_codes() {
    let s = b"s";
    let t = |c: Claims| verify(&sign(&c, s), s, NOW, &opts());
    let base = Claims::user("a");
    assert_eq!(
        t(Claims {
            exp: Some(NOW - 10),
            ..base.clone()
        })
        .unwrap_err()
        .code(),
        40
    );
    assert_eq!(
        t(Claims {
            nbf: Some(NOW + 10),
            ..base.clone()
        })
        .unwrap_err()
        .code(),
        41
    );
    assert_eq!(
        t(Claims {
            iat: Some(NOW + 10),
            ..base.clone()
        })
        .unwrap_err()
        .code(),
        42
    );
    // Expired as soon as the clock passes exp; iat/nbf get a one-second leeway.
    assert_eq!(
        t(Claims {
            exp: Some(NOW - 1),
            ..base.clone()
        }),
        Err(JwtError::Expired)
    );
    assert!(
        t(Claims {
            exp: Some(NOW),
            iat: Some(NOW + 1),
            nbf: Some(NOW + 1),
            ..base
        })
        .is_ok()
    );
}

#[test]
fn malformed_tokens_are_code_5_and_never_panic() {
    for bad in [
        "",
        ".",
        "..",
        "a.b",
        "a.b.c.d",
        "!!!.???.###",
        "eyJhbGciOiJIUzI1NiJ9.%%%.x",
        "bm90IGpzb24.eyJ1c2VyX2lkIjoiYSJ9.x",
    ] {
        let err = verify(bad, b"s", NOW, &opts()).unwrap_err();
        assert_eq!(err.code(), 5, "{bad:?} gave {err:?}");
        assert!(err.to_string().starts_with("JWTAuth error: "));
    }
    let wrong_type = sign_segments(&URL_SAFE_NO_PAD.encode(br#"{"exp":{"a":1}}"#), b"s");
    assert!(matches!(
        verify(&wrong_type, b"s", NOW, &opts()),
        Err(JwtError::Malformed(_))
    ));
    let huge = format!("{HS256_HEADER}.{}.x", "A".repeat(MAX_TOKEN_LEN));
    assert_eq!(verify(&huge, b"s", NOW, &opts()), Err(JwtError::TooLarge));
}

#[test]
fn js_safe_tokens_avoid_url_alphabet() {
    let ids = [
        "alice", "u>>>", "???", "~~~~", "a>b?c~d", "bob", "x_y-z", "guest-42", "é>?", "!anon",
        "a b",
    ];
    for id in ids
        .iter()
        .map(|s| s.to_string())
        .chain((0..300).map(|i| format!("u{}", ">?~".repeat(i % 7))))
    {
        let t = js_safe_user_token(b"s", &id);
        let payload = t.split('.').nth(1).unwrap();
        assert!(!payload.contains(['-', '_']), "{id:?}: {payload}");
        // The JS client decodes with the standard alphabet.
        let bytes = STANDARD
            .decode(format!(
                "{payload}{}",
                "=".repeat((4 - payload.len() % 4) % 4)
            ))
            .unwrap();
        let claims: Claims = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(claims.user_id.as_deref(), Some(id.as_str()));
        assert_eq!(verify(&t, b"s", NOW, &opts()).unwrap().user_id, Some(id));
    }
}

#[test]
fn dev_tokens_only_with_the_switch() {
    let dev = dev_token("alice");
    assert_eq!(
        dev,
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyX2lkIjoiYWxpY2UifQ==.devtoken"
    );
    assert_eq!(verify(&dev, b"s", NOW, &opts()), Err(JwtError::Signature));
    let allow = VerifyOptions {
        allow_dev_tokens: true,
        ..opts()
    };
    assert_eq!(
        verify(&dev, b"s", NOW, &allow).unwrap(),
        Claims::user("alice")
    );
}

#[test]
fn unverified_decoding_accepts_both_alphabets() {
    // "u>>>" encodes to a payload with '-' in base64url and '+' in standard base64.
    let url = sign(&Claims::user("u>>>"), b"s");
    assert!(url.split('.').nth(1).unwrap().contains('-'));
    let std_payload = STANDARD.encode(serde_json::to_vec(&Claims::user("u>>>")).unwrap());
    let std = format!("{HS256_HEADER}.{std_payload}.sig");
    assert_eq!(
        decode_unverified(&url).unwrap().user_id.as_deref(),
        Some("u>>>")
    );
    assert_eq!(
        decode_unverified(&std).unwrap().user_id.as_deref(),
        Some("u>>>")
    );
    let latin1 = format!(
        "{HS256_HEADER}.{}.devtoken",
        STANDARD.encode(b"{\"user_id\":\"\xe5\"}")
    );
    assert_eq!(
        decode_unverified(&latin1).unwrap().user_id.as_deref(),
        Some("å")
    );
}
