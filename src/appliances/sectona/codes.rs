//! The Sectona API's error codes: the "Standard Error Response Codes" table
//! of the GetEntitlement document, and how a `LogCode` is read.

/// The authorization header is either empty or not basic.
pub const AUTHORIZATION_HEADER: &str = "011651";
/// Invalid credentials.
pub const INVALID_CREDENTIALS: &str = "011673";
/// Invalid credentials (the document lists the description twice).
pub const INVALID_CREDENTIALS_2: &str = "011674";
/// Unable to validate request.
pub const UNABLE_TO_VALIDATE: &str = "011675";
/// Invalid instance name.
pub const INVALID_INSTANCE: &str = "011683";
/// Invalid directory store.
pub const INVALID_DIRECTORY_STORE: &str = "011656";
/// Account does not belongs to asset.
pub const ACCOUNT_NOT_ON_ASSET: &str = "011690";
/// Requested asset is not valid.
pub const INVALID_ASSET: &str = "011853";

/// Every row of the document's table, in its order, with the document's
/// wording (grammar included, since operators search for it).
pub const TABLE: &[(&str, &str)] = &[
    (
        "011649",
        "Current user do not have permission to take action",
    ),
    (
        AUTHORIZATION_HEADER,
        "The authorization header is either empty or not basic",
    ),
    (INVALID_CREDENTIALS, "Invalid credentials"),
    (INVALID_CREDENTIALS_2, "Invalid credentials"),
    (UNABLE_TO_VALIDATE, "Unable to validate request"),
    (INVALID_INSTANCE, "Invalid instance name"),
    ("011803", "Unable to insert API log details"),
    ("032417", "Unable to get entitlement information"),
    (INVALID_DIRECTORY_STORE, "Invalid directory store"),
    ("011671", "Invalid account name"),
    ("011685", "Unable to get asset information"),
    (ACCOUNT_NOT_ON_ASSET, "Account does not belongs to asset"),
    ("011805", "Unable to get user group"),
    (INVALID_ASSET, "Requested asset is not valid"),
];

/// The codes that mean the credentials were refused.
pub const CREDENTIAL_CODES: &[&str] = &[
    AUTHORIZATION_HEADER,
    INVALID_CREDENTIALS,
    INVALID_CREDENTIALS_2,
];

/// The `description` label of a code: the document's words, or `unknown`.
pub fn describe(code: &str) -> &'static str {
    TABLE
        .iter()
        .find(|(c, _)| *c == code)
        .map_or("unknown", |(_, d)| d)
}

/// Whether `code` means the credentials were refused.
pub fn is_credential_error(code: &str) -> bool {
    CREDENTIAL_CODES.contains(&code)
}

/// A `LogCode` as a label value, or `None` when it says "no error" (absent,
/// blank, or zero as in the document's success sample). The document's
/// codes are six digits with leading zeros; a code that arrives as a JSON
/// number has lost them, so shorter digit strings are padded back.
pub fn normalize(log_code: &str) -> Option<String> {
    let code = log_code.trim();
    if code.is_empty() || code.bytes().all(|b| b == b'0') {
        return None;
    }
    if code.len() < 6 && code.bytes().all(|b| b.is_ascii_digit()) {
        return Some(format!("{code:0>6}"));
    }
    Some(crate::json::clip(code, 40))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_has_every_row_of_the_document_once() {
        assert_eq!(TABLE.len(), 14);
        for (i, (code, _)) in TABLE.iter().enumerate() {
            assert_eq!(code.len(), 6, "{code}");
            assert!(
                TABLE[i + 1..].iter().all(|(c, _)| c != code),
                "{code} twice"
            );
        }
        assert_eq!(describe("011683"), "Invalid instance name");
        assert_eq!(describe("999999"), "unknown");
    }

    #[test]
    fn codes_are_normalized() {
        assert_eq!(normalize("0"), None);
        assert_eq!(normalize(" "), None);
        assert_eq!(normalize("000000"), None);
        assert_eq!(normalize("011673").as_deref(), Some("011673"));
        assert_eq!(normalize("11673").as_deref(), Some("011673"));
        assert_eq!(normalize(" 32417 ").as_deref(), Some("032417"));
        assert_eq!(normalize("E-42").as_deref(), Some("E-42"));
    }

    #[test]
    fn only_the_three_credential_codes_refuse_credentials() {
        let refused: Vec<&str> = TABLE
            .iter()
            .map(|(c, _)| *c)
            .filter(|c| is_credential_error(c))
            .collect();
        assert_eq!(refused, ["011651", "011673", "011674"]);
    }
}
