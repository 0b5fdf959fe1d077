//! Mongo-like filters and sorting over JSON documents (query channels, query users).

use std::cmp::Ordering;

use serde_json::{Map, Value};
use stream_chat_protocol::SortParam;

/// Whether `doc` matches `filter`. Unsupported operators are an error (the caller answers code 4).
pub(crate) fn matches(doc: &Value, filter: &Map<String, Value>) -> Result<bool, String> {
    for (key, cond) in filter {
        let ok = match key.as_str() {
            "$and" => all(doc, cond)?.iter().all(|b| *b),
            "$or" => all(doc, cond)?.iter().any(|b| *b),
            "$nor" => !all(doc, cond)?.iter().any(|b| *b),
            op if op.starts_with('$') => return Err(format!("operator {op} is not supported")),
            field => field_matches(doc.get(field).unwrap_or(&Value::Null), cond)?,
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Checks operators and argument shapes up front, so an invalid filter is an error whatever
/// the data (matching stops early and would miss errors after a failed condition).
pub(crate) fn validate(filter: &Map<String, Value>) -> Result<(), String> {
    for (key, cond) in filter {
        match key.as_str() {
            "$and" | "$or" | "$nor" => match cond {
                Value::Array(items) => {
                    for item in items {
                        let Value::Object(f) = item else {
                            return Err("$and/$or/$nor take an array of filters".into());
                        };
                        validate(f)?;
                    }
                }
                _ => return Err("$and/$or/$nor take an array of filters".into()),
            },
            op if op.starts_with('$') => return Err(format!("operator {op} is not supported")),
            _ => match cond {
                Value::Object(ops) if !ops.is_empty() && ops.keys().all(|k| k.starts_with('$')) => {
                    for (op, arg) in ops {
                        // Matching a null value runs every check on the argument's shape.
                        op_matches(&Value::Null, op, arg)?;
                    }
                }
                _ => {}
            },
        }
    }
    Ok(())
}

fn all(doc: &Value, conds: &Value) -> Result<Vec<bool>, String> {
    let Value::Array(items) = conds else {
        return Err("$and/$or/$nor take an array of filters".into());
    };
    items
        .iter()
        .map(|c| match c {
            Value::Object(f) => matches(doc, f),
            _ => Err("$and/$or/$nor take an array of filters".into()),
        })
        .collect()
}

fn field_matches(value: &Value, cond: &Value) -> Result<bool, String> {
    match cond {
        Value::Object(ops) if !ops.is_empty() && ops.keys().all(|k| k.starts_with('$')) => {
            for (op, arg) in ops {
                if !op_matches(value, op, arg)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        other => Ok(equals(value, other)),
    }
}

fn op_matches(value: &Value, op: &str, arg: &Value) -> Result<bool, String> {
    Ok(match op {
        "$eq" => equals(value, arg),
        "$ne" => !equals(value, arg),
        "$in" => is_in(value, arg)?,
        "$nin" => !is_in(value, arg)?,
        "$gt" => compare(value, arg) == Some(Ordering::Greater),
        "$gte" => matches!(
            compare(value, arg),
            Some(Ordering::Greater | Ordering::Equal)
        ),
        "$lt" => compare(value, arg) == Some(Ordering::Less),
        "$lte" => matches!(compare(value, arg), Some(Ordering::Less | Ordering::Equal)),
        "$exists" => arg.as_bool().ok_or("$exists takes a boolean")? != value.is_null(),
        "$contains" => value
            .as_array()
            .is_some_and(|a| a.iter().any(|v| equals(v, arg))),
        "$autocomplete" | "$q" => match (value.as_str(), arg.as_str()) {
            (Some(v), Some(a)) => v.to_lowercase().contains(&a.to_lowercase()),
            _ => false,
        },
        other => return Err(format!("operator {other} is not supported")),
    })
}

/// Equality; an array field equals an array as a set and "equals" a scalar it contains.
fn equals(value: &Value, arg: &Value) -> bool {
    match (value, arg) {
        (Value::Array(have), Value::Array(want)) => {
            have.len() == want.len() && want.iter().all(|w| have.iter().any(|h| scalar_eq(h, w)))
        }
        (Value::Array(have), scalar) => have.iter().any(|h| scalar_eq(h, scalar)),
        _ => scalar_eq(value, arg),
    }
}

fn scalar_eq(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

fn is_in(value: &Value, arg: &Value) -> Result<bool, String> {
    let Value::Array(options) = arg else {
        return Err("$in/$nin take an array".into());
    };
    Ok(match value {
        Value::Array(have) => have.iter().any(|h| options.iter().any(|o| scalar_eq(h, o))),
        v => options.iter().any(|o| scalar_eq(v, o)),
    })
}

fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}

/// Total order for sorting: null < bool < number < string < anything else.
pub(crate) fn sort_cmp(a: &Value, b: &Value) -> Ordering {
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Number(_) => 2,
            Value::String(_) => 3,
            _ => 4,
        }
    }
    rank(a).cmp(&rank(b)).then_with(|| match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Number(_), Value::Number(_)) => compare(a, b).unwrap_or(Ordering::Equal),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        _ => Ordering::Equal,
    })
}

/// Sorts documents by `sort` (the first criterion first); ties keep their order.
pub(crate) fn sort_docs<T>(items: &mut [(Value, T)], sort: &[SortParam]) {
    items.sort_by(|(a, _), (b, _)| {
        sort.iter().fold(Ordering::Equal, |acc, s| {
            acc.then_with(|| {
                let o = sort_cmp(
                    a.get(&s.field).unwrap_or(&Value::Null),
                    b.get(&s.field).unwrap_or(&Value::Null),
                );
                if s.direction < 0 { o.reverse() } else { o }
            })
        })
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn m(doc: Value, filter: Value) -> bool {
        matches(&doc, filter.as_object().unwrap()).unwrap()
    }

    #[test]
    fn operators() {
        let doc =
            json!({"cid": "messaging:a", "type": "messaging", "members": ["ann", "ben"], "n": 3});
        assert!(m(
            doc.clone(),
            json!({"cid": {"$in": ["messaging:a", "x"]}})
        ));
        assert!(m(
            doc.clone(),
            json!({"members": {"$in": ["ben"]}, "type": "messaging"})
        ));
        assert!(!m(doc.clone(), json!({"members": {"$in": ["nobody"]}})));
        assert!(m(doc.clone(), json!({"members": {"$eq": ["ben", "ann"]}})));
        assert!(!m(doc.clone(), json!({"members": {"$eq": ["ben"]}})));
        assert!(m(doc.clone(), json!({"members": "ann"})));
        assert!(m(doc.clone(), json!({"n": {"$gt": 2, "$lte": 3}})));
        assert!(m(
            doc.clone(),
            json!({"$or": [{"n": 1}, {"cid": {"$eq": "messaging:a"}}]})
        ));
        assert!(m(doc.clone(), json!({"missing": {"$exists": false}})));
        assert!(matches(&doc, json!({"n": {"$regex": "x"}}).as_object().unwrap()).is_err());
    }

    #[test]
    fn validation_does_not_depend_on_the_data() {
        let v = |f: Value| validate(f.as_object().unwrap());
        assert!(v(json!({"type": "messaging", "members": {"$in": ["a"]}})).is_ok());
        assert!(v(json!({"$or": [{"a": 1}, {"b": {"$exists": true}}]})).is_ok());
        // Each of these matches nothing before reaching the error, or has nothing to match.
        for bad in [
            json!({"$where": "1"}),
            json!({"type": "nope", "n": {"$regex": "x"}}),
            json!({"n": {"$eq": 1, "$bogus": 2}}),
            json!({"$and": [{"a": 1}, 3]}),
            json!({"$or": {"a": 1}}),
            json!({"n": {"$in": "not an array"}}),
            json!({"n": {"$exists": "yes"}}),
        ] {
            assert!(v(bad.clone()).is_err(), "{bad}");
        }
    }
}
