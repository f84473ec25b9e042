//! Where a file sits in the uploads bucket says whose it is: `plans/<plan_id>/<file>` is an operator's plan document,
//! `members/<member>/<document_id>/<file>` a member's upload under the id `POST /v1/documents` issued. Any other key
//! is not an upload.

use navigator_platform::documents::check_file_name;
use navigator_platform::owner::{Owner, PlanId};
use navigator_retrieval::intake::Destination;
use uuid::Uuid;

/// The prefix of a member's uploads.
pub const MEMBERS: &str = "members";
/// The prefix of plans' documents.
pub const PLANS: &str = "plans";

/// The destination a key names, or why it names none.
pub fn destination(key: &str) -> Result<Destination, String> {
    let parts: Vec<&str> = key.split('/').collect();
    match parts.as_slice() {
        [PLANS, plan, file] => Ok(Destination {
            owner: Owner::Plan(PlanId::parse(plan).map_err(|e| e.to_string())?),
            document_id: None,
            file_name: file_name(file)?,
        }),
        [MEMBERS, member, document, file] => Ok(Destination {
            owner: Owner::Member(Uuid::parse_str(member).map_err(|_| format!("{member:?} is not a member id"))?),
            document_id: Some(Uuid::parse_str(document).map_err(|_| format!("{document:?} is not a document id"))?),
            file_name: file_name(file)?,
        }),
        _ => Err(format!(
            "{key:?} is not {PLANS}/<plan_id>/<file> or {MEMBERS}/<member>/<document_id>/<file>"
        )),
    }
}

fn file_name(name: &str) -> Result<String, String> {
    check_file_name(name)
        .map(str::to_string)
        .map_err(|e| e.public_message())
}

/// The key a member's upload is put under.
pub fn member_key(member: Uuid, document_id: Uuid, file_name: &str) -> String {
    format!("{MEMBERS}/{member}/{document_id}/{file_name}")
}

/// The folder of one member upload: every object under it belongs to that document.
pub fn member_folder(member: Uuid, document_id: Uuid) -> String {
    format!("{MEMBERS}/{member}/{document_id}/")
}

/// An object key as S3 event notifications carry it: URL-encoded, with `+` for a space.
pub fn decode_event_key(encoded: &str) -> Result<String, String> {
    let bytes = encoded.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = encoded
                    .get(i + 1..i + 3)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| format!("{encoded:?}: a bad %-escape"))?;
                out.push(hex);
                i += 2;
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| format!("{encoded:?}: not UTF-8 once decoded"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_and_member_keys_name_their_owner() {
        let plan = destination("plans/scan-classic-hmo-2025/EOC 2025.pdf").unwrap();
        assert_eq!(plan.owner, Owner::Plan(PlanId::parse("scan-classic-hmo-2025").unwrap()));
        assert_eq!((plan.document_id, plan.file_name.as_str()), (None, "EOC 2025.pdf"));
        let (member, document) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let key = member_key(member, document, "rider.md");
        let upload = destination(&key).unwrap();
        assert_eq!(upload.owner, Owner::Member(member));
        assert_eq!(upload.document_id, Some(document));
        assert!(key.starts_with(&member_folder(member, document)));
    }

    #[test]
    fn anything_else_is_not_an_upload() {
        for key in [
            "plans/a.pdf",
            "plans/../x/a.pdf",
            "plans/p/sub/a.pdf",
            "members/not-a-uuid/00000000-0000-0000-0000-000000000002/a.pdf",
            "members/00000000-0000-0000-0000-000000000001/a.pdf",
            "other/a.pdf",
            "plans/p/a\u{7}.pdf",
        ] {
            assert!(destination(key).is_err(), "{key:?}");
        }
    }

    #[test]
    fn event_keys_are_url_decoded() {
        assert_eq!(
            decode_event_key("plans/p/EOC+2025%28final%29.pdf").unwrap(),
            "plans/p/EOC 2025(final).pdf"
        );
        assert_eq!(decode_event_key("plans/p/se%C3%B1al.pdf").unwrap(), "plans/p/señal.pdf");
        assert!(decode_event_key("plans/p/%zz.pdf").is_err());
        assert!(decode_event_key("plans/p/%ff.pdf").is_err());
    }
}
