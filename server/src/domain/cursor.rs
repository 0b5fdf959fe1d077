//! Opaque, stable page cursors (search's `next`/`previous`, query threads' `next`/`prev`):
//! keyset pagination over documents sorted by the request's sort plus a unique field. A
//! cursor holds the sort and the sort key of the item it continues from, so the next page
//! starts right after that item even when items were added or removed meanwhile (an offset
//! would repeat or skip them). Clients treat it as an opaque string: it is hex-encoded JSON.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use stream_chat_protocol::SortParam;

use super::filter::sort_cmp;

/// What a cursor holds.
#[derive(Serialize, Deserialize)]
struct Mark {
    /// The full sort (the unique field last).
    s: Vec<SortParam>,
    /// The sort key of the item the page continues from.
    k: Vec<Value>,
    /// `true`: the items after it (next); `false`: the items before it (previous).
    a: bool,
}

/// One page of items, with the cursors of the pages around it (when there are items there).
pub(crate) struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
    pub prev: Option<String>,
}

/// What to page: documents to sort on (`Value` objects) with the items they stand for.
pub(crate) struct Request<'a> {
    /// The request's sort (ignored when a cursor is given: the cursor's applies).
    pub sort: &'a [SortParam],
    /// A field unique per document, appended (ascending) to make the order total.
    pub unique: &'a str,
    pub limit: usize,
    pub offset: usize,
    pub cursor: Option<&'a str>,
}

/// Sorts `docs` and returns the page `request` asks for. An unreadable cursor is an error
/// (the caller answers code 4).
pub(crate) fn page<T>(mut docs: Vec<(Value, T)>, request: &Request) -> Result<Page<T>, String> {
    let mark = request.cursor.map(decode).transpose()?;
    let sort = match &mark {
        Some(m) => m.s.clone(),
        None => full_sort(request.sort, request.unique),
    };
    docs.sort_by(|(a, _), (b, _)| compare(&key(a, &sort), &key(b, &sort), &sort));
    let keys: Vec<Vec<Value>> = docs.iter().map(|(d, _)| key(d, &sort)).collect();
    let range = match &mark {
        None => {
            let start = request.offset.min(docs.len());
            start..(start + request.limit).min(docs.len())
        }
        Some(m) if m.a => {
            let start = keys.partition_point(|k| compare(k, &m.k, &sort) != Ordering::Greater);
            start..(start + request.limit).min(docs.len())
        }
        Some(m) => {
            let end = keys.partition_point(|k| compare(k, &m.k, &sort) == Ordering::Less);
            end.saturating_sub(request.limit)..end
        }
    };
    let next = (range.end < docs.len() && !range.is_empty()).then(|| Mark {
        s: sort.clone(),
        k: keys[range.end - 1].clone(),
        a: true,
    });
    let prev = (range.start > 0 && !range.is_empty()).then(|| Mark {
        s: sort.clone(),
        k: keys[range.start].clone(),
        a: false,
    });
    let items = docs
        .into_iter()
        .skip(range.start)
        .take(range.len())
        .map(|(_, t)| t)
        .collect();
    Ok(Page {
        items,
        next: next.map(|m| encode(&m)),
        prev: prev.map(|m| encode(&m)),
    })
}

/// `sort` with `unique` ascending appended, unless it already sorts on it.
fn full_sort(sort: &[SortParam], unique: &str) -> Vec<SortParam> {
    let mut full = sort.to_vec();
    if !full.iter().any(|s| s.field == unique) {
        full.push(SortParam {
            field: unique.to_owned(),
            direction: 1,
        });
    }
    full
}

fn key(doc: &Value, sort: &[SortParam]) -> Vec<Value> {
    sort.iter()
        .map(|s| doc.get(&s.field).cloned().unwrap_or(Value::Null))
        .collect()
}

fn compare(a: &[Value], b: &[Value], sort: &[SortParam]) -> Ordering {
    sort.iter()
        .zip(a.iter().zip(b))
        .fold(Ordering::Equal, |acc, (s, (x, y))| {
            acc.then_with(|| {
                let o = sort_cmp(x, y);
                if s.direction < 0 { o.reverse() } else { o }
            })
        })
}

fn encode(mark: &Mark) -> String {
    let json = serde_json::to_vec(mark).unwrap_or_default();
    json.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode(cursor: &str) -> Result<Mark, String> {
    let bad = || format!("'{cursor}' is not a cursor this server handed out");
    if !cursor.len().is_multiple_of(2) || !cursor.is_ascii() {
        return Err(bad());
    }
    let bytes = (0..cursor.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&cursor[i..i + 2], 16))
        .collect::<Result<Vec<u8>, _>>()
        .map_err(|_| bad())?;
    let mark: Mark = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    if mark.s.is_empty() || mark.s.len() != mark.k.len() {
        return Err(bad());
    }
    Ok(mark)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// Documents `{id, n}` standing for their id.
    fn docs(items: &[(i64, i64)]) -> Vec<(Value, i64)> {
        items
            .iter()
            .map(|(id, n)| (json!({"id": id, "n": n}), *id))
            .collect()
    }

    fn request<'a>(sort: &'a [SortParam], cursor: Option<&'a str>) -> Request<'a> {
        Request {
            sort,
            unique: "id",
            limit: 2,
            offset: 0,
            cursor,
        }
    }

    #[test]
    fn pages_follow_the_cursor_even_when_items_arrive() {
        let sort = [SortParam {
            field: "n".into(),
            direction: -1,
        }];
        // n desc, then id asc: 2 5 | 1 4 | 0 3
        let base = [(0, 0), (1, 1), (2, 2), (3, 0), (4, 1), (5, 2)];
        let first = page(docs(&base), &request(&sort, None)).unwrap();
        assert_eq!(first.items, [2, 5]);
        assert!(first.prev.is_none());
        let next = first.next.unwrap();
        // An item sorting before the cursor arrives: the next page is not shifted.
        let mut more = base.to_vec();
        more.push((-7, 9));
        let second = page(docs(&more), &request(&sort, Some(&next))).unwrap();
        assert_eq!(second.items, [1, 4]);
        let back = second.prev.unwrap();
        let again = page(docs(&more), &request(&sort, Some(&back))).unwrap();
        assert_eq!(again.items, [2, 5]);
        assert!(again.prev.is_some(), "the new item is before them");
        let third = page(docs(&more), &request(&sort, second.next.as_deref())).unwrap();
        assert_eq!((third.items, third.next), (vec![0, 3], None));
    }

    #[test]
    fn a_cursor_not_handed_out_is_an_error() {
        for bad in ["zz", "abc", "7b7d", "", "é1"] {
            assert!(
                page(docs(&[(1, 1)]), &request(&[], Some(bad))).is_err(),
                "{bad}"
            );
        }
    }
}
