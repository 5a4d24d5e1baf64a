//! Writing JSON: compact, names in insertion order, non-ASCII as UTF-8, `"`, `\` and
//! control characters escaped, numbers in their shortest round-trip form. This is the
//! byte-for-byte form orjson gives (what eventgate wrote before the kernel, and what the
//! topic schemas in `docs/schemas/` describe); a property test in `tests/` compares them.

use serde_json::Value;

/// `value` as compact JSON bytes.
pub fn to_vec(value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    write_value(&mut out, value);
    out
}

/// Appends `value` as compact JSON to `out`.
pub fn write_value(out: &mut Vec<u8>, value: &Value) {
    // serde_json's compact writer is exactly the form wanted (tested against orjson).
    serde_json::to_writer(&mut *out, value).expect("writing to a Vec cannot fail");
}

/// Appends `text` as a JSON string to `out`.
pub fn write_str(out: &mut Vec<u8>, text: &str) {
    serde_json::to_writer(&mut *out, text).expect("writing to a Vec cannot fail");
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn writes_compactly_in_insertion_order() {
        let value = json!({"b": 1, "a": [1.0, -0.0, 1e20, "é\u{1f}\"\\/"], "c": null});
        assert_eq!(
            String::from_utf8(to_vec(&value)).unwrap(),
            "{\"b\":1,\"a\":[1.0,-0.0,1e+20,\"é\\u001f\\\"\\\\/\"],\"c\":null}"
        );
    }
}
