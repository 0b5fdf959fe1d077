//! Query strings: the parameters of the `GET` endpoints that take them in the URL (a page of
//! replies, a thread, a page of reactions), written from and read into serde types, so each
//! name has one definition. Values are text in a URL: strings as they are, numbers and
//! booleans spelled out, arrays and objects as JSON (as the official JS client's serializer
//! writes them). Fields that are not strings read such text back through the helpers here.
//!
//! ```
//! use stream_chat_protocol::{MessagePagination, RepliesRequest, SortParam, query};
//!
//! let request = RepliesRequest {
//!     pagination: MessagePagination::before("m5", 10),
//!     sort: vec![SortParam { field: "created_at".into(), direction: 1 }],
//! };
//! let pairs = query::to_pairs(&request);
//! assert!(pairs.contains(&("limit".to_owned(), "10".to_owned())));
//! let sort = &pairs.iter().find(|(k, _)| k == "sort").unwrap().1;
//! assert_eq!(serde_json::from_str::<Vec<SortParam>>(sort).unwrap(), request.sort);
//! let back: RepliesRequest = query::from_pairs(pairs).unwrap();
//! assert_eq!(back, request);
//! ```

use serde::de::{DeserializeOwned, Deserializer, Error};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The query pairs of `value` (a struct): absent options left out, strings as they are,
/// other values as JSON text.
pub fn to_pairs(value: &impl Serialize) -> Vec<(String, String)> {
    let Ok(Value::Object(fields)) = serde_json::to_value(value) else {
        return Vec::new();
    };
    fields
        .into_iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| match v {
            Value::String(s) => (k, s),
            other => (k, other.to_string()),
        })
        .collect()
}

/// Reads query pairs into `T`. An error says which value did not fit.
pub fn from_pairs<T: DeserializeOwned>(
    pairs: impl IntoIterator<Item = (String, String)>,
) -> Result<T, String> {
    let fields: Map<String, Value> = pairs
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    serde_json::from_value(Value::Object(fields)).map_err(|e| e.to_string())
}

/// A value that is the thing itself (in a JSON body) or its text (in a query string).
#[derive(Deserialize)]
#[serde(untagged)]
enum OrText<T> {
    Value(T),
    Text(String),
}

/// `Option<u32>` from a number or its decimal text.
pub(crate) fn u32_or_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    match Option::<OrText<u32>>::deserialize(d)? {
        None => Ok(None),
        Some(OrText::Value(n)) => Ok(Some(n)),
        Some(OrText::Text(s)) => s
            .parse()
            .map(Some)
            .map_err(|_| D::Error::custom(format!("'{s}' is not a non-negative integer"))),
    }
}

/// `Option<bool>` from a boolean or `true`/`false`/`1`/`0`.
pub(crate) fn bool_or_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    match Option::<OrText<bool>>::deserialize(d)? {
        None => Ok(None),
        Some(OrText::Value(b)) => Ok(Some(b)),
        Some(OrText::Text(s)) => match s.as_str() {
            "true" | "1" => Ok(Some(true)),
            "false" | "0" => Ok(Some(false)),
            _ => Err(D::Error::custom(format!("'{s}' is not true or false"))),
        },
    }
}

/// A JSON value `T` itself, or its JSON text (a query string's arrays and objects).
pub(crate) fn json_or_text<'de, D: Deserializer<'de>, T: DeserializeOwned + Default>(
    d: D,
) -> Result<T, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None => Ok(T::default()),
        Some(Value::String(s)) => serde_json::from_str(&s).map_err(D::Error::custom),
        Some(v) => serde_json::from_value(v).map_err(D::Error::custom),
    }
}
