//! JSON read strictly: serde keeps the last of two equal keys in an object without a word,
//! so a hand-edited file with a key written twice would silently lose the first. Files a
//! person writes (the IR, folding files) are checked with [`unique_keys`] first.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::collections::HashSet;
use std::fmt;

/// Any JSON value, refusing an object with a repeated key.
struct Unique;

impl<'de> Deserialize<'de> for Unique {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Unique, D::Error> {
        d.deserialize_any(UniqueVisitor)
    }
}

struct UniqueVisitor;

impl<'de> Visitor<'de> for UniqueVisitor {
    type Value = Unique;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Unique, E> {
        Ok(Unique)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Unique, E> {
        Ok(Unique)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Unique, E> {
        Ok(Unique)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Unique, E> {
        Ok(Unique)
    }
    fn visit_str<E>(self, _: &str) -> Result<Unique, E> {
        Ok(Unique)
    }
    fn visit_unit<E>(self) -> Result<Unique, E> {
        Ok(Unique)
    }
    fn visit_none<E>(self) -> Result<Unique, E> {
        Ok(Unique)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Unique, D::Error> {
        Unique::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Unique, A::Error> {
        while s.next_element::<Unique>()?.is_some() {}
        Ok(Unique)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Unique, A::Error> {
        let mut seen = HashSet::new();
        while let Some(k) = m.next_key::<String>()? {
            if !seen.insert(k.clone()) {
                return Err(de::Error::custom(format!(
                    "key `{k}` appears twice in one object; keep one"
                )));
            }
            m.next_value::<Unique>()?;
        }
        Ok(Unique)
    }
}

/// Whether every object of the JSON `text` has distinct keys (and `text` is JSON at all);
/// the error names the repeated key and where it is.
pub fn unique_keys(text: &str) -> Result<(), serde_json::Error> {
    serde_json::from_str::<Unique>(text).map(|_| ())
}

#[cfg(test)]
mod tests {
    #[test]
    fn repeated_keys_are_found_at_any_depth() {
        assert!(super::unique_keys(r#"{"a": 1, "b": [{"c": 2}]}"#).is_ok());
        let e = super::unique_keys(r#"{"a": {"x": 1, "y": 2, "x": 3}}"#).unwrap_err();
        assert!(e.to_string().contains("`x` appears twice"), "{e}");
        assert!(super::unique_keys(r#"[{"k": 1}, {"k": 2}]"#).is_ok());
    }
}
