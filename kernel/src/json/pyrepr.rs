//! Python's `repr` and `str` of JSON values, for messages.
//!
//! Messages that quote what producers or operators sent keep the form the product has
//! always written (and its users and tests read): a string as Python's `repr` shows it
//! (`'sku'`, `"it's"`, `'a\nb'`, `'\x00'`), numbers and containers as Python prints the
//! values a JSON parser gives (`1`, `1.5`, `1e+16`, `['EUR', 'USD']`, `{'a': None}`).

use serde_json::{Number, Value};

use super::printable::NON_PRINTABLE;

/// Whether Python's `str.isprintable` holds for `c` (the generated table of `printable.rs`).
pub fn is_printable(c: char) -> bool {
    let cp = c as u32;
    NON_PRINTABLE
        .binary_search_by(|&(lo, hi)| {
            if hi < cp {
                std::cmp::Ordering::Less
            } else if lo > cp {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_err()
}

/// `repr(text)` as CPython writes it (`unicode_repr`).
pub fn repr_str(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    push_repr_str(&mut out, text);
    out
}

/// Appends `repr(text)` to `out`.
pub fn push_repr_str(out: &mut String, text: &str) {
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    out.push(quote);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7F => push_hex(out, 'x', c as u32, 2),
            c if (c as u32) < 0x7F => out.push(c),
            c if is_printable(c) => out.push(c),
            c if (c as u32) <= 0xFF => push_hex(out, 'x', c as u32, 2),
            c if (c as u32) <= 0xFFFF => push_hex(out, 'u', c as u32, 4),
            c => push_hex(out, 'U', c as u32, 8),
        }
    }
    out.push(quote);
}

fn push_hex(out: &mut String, kind: char, value: u32, width: usize) {
    out.push('\\');
    out.push(kind);
    out.push_str(&format!("{value:0width$x}"));
}

/// `repr(float)` of a finite double: the shortest digits that read back to it, in fixed
/// notation when the decimal exponent is in -4..16, else `d.ddde±XX`.
pub fn repr_float(value: f64) -> String {
    if value.is_nan() {
        return "nan".to_owned();
    }
    if value.is_infinite() {
        return if value > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    // Rust's `{:e}` gives the shortest round-trip digits: "-1.2345e-7", "1e16".
    let sci = format!("{value:e}");
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let mut out = String::from(sign);
    if (-4..16).contains(&exponent) {
        let point = exponent + 1; // digits before the decimal point
        if point <= 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-point) as usize));
            out.push_str(&digits);
        } else {
            let point = point as usize;
            if digits.len() <= point {
                out.push_str(&digits);
                out.extend(std::iter::repeat_n('0', point - digits.len()));
                out.push_str(".0");
            } else {
                out.push_str(&digits[..point]);
                out.push('.');
                out.push_str(&digits[point..]);
            }
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exponent < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exponent.unsigned_abs()));
    }
    out
}

/// Python's `repr` of the number a JSON parser gives: an `int` for integer literals
/// within 64 bits, else a `float`.
pub fn repr_number(number: &Number) -> String {
    if let Some(u) = number.as_u64() {
        u.to_string()
    } else if let Some(i) = number.as_i64() {
        i.to_string()
    } else {
        repr_float(number.as_f64().unwrap_or(f64::NAN))
    }
}

/// `repr(value)` of the Python object a JSON parser gives for `value`.
pub fn repr_value(value: &Value) -> String {
    let mut out = String::new();
    push_repr_value(&mut out, value);
    out
}

/// Appends `repr(value)` to `out`.
pub fn push_repr_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("None"),
        Value::Bool(true) => out.push_str("True"),
        Value::Bool(false) => out.push_str("False"),
        Value::Number(n) => out.push_str(&repr_number(n)),
        Value::String(s) => push_repr_str(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                push_repr_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                push_repr_str(out, k);
                out.push_str(": ");
                push_repr_value(out, v);
            }
            out.push('}');
        }
    }
}

/// `str(value)`: a string as it is, anything else as `repr`.
pub fn str_value(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => repr_value(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_are_quoted_as_python_does() {
        assert_eq!(repr_str("sku"), "'sku'");
        assert_eq!(repr_str("it's"), "\"it's\"");
        assert_eq!(repr_str("it's \"x\""), "'it\\'s \"x\"'");
        assert_eq!(repr_str("a\nb\t\\"), "'a\\nb\\t\\\\'");
        assert_eq!(repr_str("\u{0}\u{7f}\u{a0}é"), "'\\x00\\x7f\\xa0é'");
        assert_eq!(repr_str("\u{2028}\u{fe0f}😀"), "'\\u2028\u{fe0f}😀'");
        assert_eq!(repr_str("\u{e0001}"), "'\\U000e0001'");
    }

    #[test]
    fn floats_are_written_as_python_repr() {
        let cases = [
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (123.456, "123.456"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
            (9.5, "9.5"),
        ];
        for (value, text) in cases {
            assert_eq!(repr_float(value), text, "{value}");
        }
    }

    #[test]
    fn values_are_written_as_python_repr() {
        let value = json!({"a": [1, 2.5, "x", null, true, false], "b": {}});
        assert_eq!(
            repr_value(&value),
            "{'a': [1, 2.5, 'x', None, True, False], 'b': {}}"
        );
        assert_eq!(str_value(&json!("^a$")), "^a$");
        assert_eq!(str_value(&json!(["EUR", "USD"])), "['EUR', 'USD']");
    }
}
