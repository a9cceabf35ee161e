//! The one `.npy` reader every subcommand uses (`golden`, `cosim`, the tests).
//!
//! Reads NumPy format 1.0-3.0 files of bool, int8..int64, uint8..uint64, float32 and
//! float64, little- or big-endian, C or Fortran order. The header's shape is checked against
//! the file's length before anything is allocated, so a small file that declares a huge
//! array is an error, not an allocation. Frames are the rows of the first axis.
//!
//! One rule for what the values are ([`frames`]): an array of integers (or bools) holds the
//! hardware's integer frames, which must be values of the model's input type (never
//! clamped); an array of floats holds the model's float inputs, which its host pre-steps
//! quantize (a model without pre-steps takes only floats that are exactly its integers).

use crate::ir::Model;
use std::path::Path;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum NpyError {
    #[error("{path}: {err}")]
    Io { path: String, err: std::io::Error },
    #[error("{path}: not a .npy file the way ferrite reads them: {why}")]
    Format { path: String, why: String },
    #[error("{path}: {why}")]
    Frames { path: String, why: String },
}

/// The values of an array: integers or floats.
#[derive(Clone, Debug, PartialEq)]
pub enum Values {
    Int(Vec<i64>),
    Float(Vec<f64>),
}

/// A `.npy` array in C (row-major) order.
#[derive(Clone, Debug, PartialEq)]
pub struct Array {
    pub shape: Vec<usize>,
    pub values: Values,
}

/// Largest array read: 2^31 elements.
pub const MAX_ELEMS: usize = 1 << 31;

#[derive(Clone, Copy)]
enum Kind {
    Bool,
    Int,
    Uint,
    Float,
}

fn header_value<'a>(h: &'a str, key: &str) -> Option<&'a str> {
    let k = format!("'{key}':");
    let at = h.find(&k)? + k.len();
    Some(h[at..].trim_start())
}

/// Parse a `.npy` file's bytes.
/// A checked `.npy` header and the data it describes.
struct Header<'a> {
    shape: Vec<usize>,
    kind: Kind,
    size: usize,
    big: bool,
    fortran: bool,
    n: usize,
    data: &'a [u8],
}

/// Parse and check the header: magic, version, dtype, shape, and that the data is exactly
/// the size the shape declares.
fn header(bytes: &[u8]) -> Result<Header<'_>, String> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err("no .npy magic (\\x93NUMPY)".into());
    }
    let major = bytes[6];
    let (hlen, start) = match major {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10usize),
        2 | 3 => {
            if bytes.len() < 12 {
                return Err("truncated header".into());
            }
            (
                u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
                12,
            )
        }
        v => return Err(format!("format version {v} (1, 2 and 3 are read)")),
    };
    let end = start
        .checked_add(hlen)
        .filter(|&e| e <= bytes.len())
        .ok_or("the header runs past the end of the file")?;
    let h = std::str::from_utf8(&bytes[start..end]).map_err(|_| "the header is not text")?;
    let descr = header_value(h, "descr")
        .and_then(|v| v.strip_prefix('\''))
        .and_then(|v| v.split('\'').next())
        .ok_or("the header has no 'descr'")?;
    let fortran = match header_value(h, "fortran_order") {
        Some(v) if v.starts_with("True") => true,
        Some(v) if v.starts_with("False") => false,
        _ => return Err("the header has no 'fortran_order'".into()),
    };
    let shape_text = header_value(h, "shape")
        .and_then(|v| v.strip_prefix('('))
        .and_then(|v| v.split(')').next())
        .ok_or("the header has no 'shape'")?;
    let mut shape = Vec::new();
    for part in shape_text
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        shape.push(
            part.trim_end_matches('L')
                .parse::<usize>()
                .map_err(|_| format!("shape entry `{part}` is not a size"))?,
        );
    }
    let (endian, rest) = descr.split_at(descr.len().min(1));
    let big = match endian {
        "<" | "|" | "=" => false,
        ">" => true,
        _ => return Err(format!("dtype `{descr}`")),
    };
    let (kind, size) = match rest {
        "b1" | "?" => (Kind::Bool, 1),
        "i1" => (Kind::Int, 1),
        "i2" => (Kind::Int, 2),
        "i4" => (Kind::Int, 4),
        "i8" => (Kind::Int, 8),
        "u1" => (Kind::Uint, 1),
        "u2" => (Kind::Uint, 2),
        "u4" => (Kind::Uint, 4),
        "u8" => (Kind::Uint, 8),
        "f4" => (Kind::Float, 4),
        "f8" => (Kind::Float, 8),
        _ => {
            return Err(format!(
                "dtype `{descr}`; use bool, int8..int64, uint8..uint64, float32 or float64"
            ));
        }
    };
    let n = shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .filter(|&n| n <= MAX_ELEMS)
        .ok_or_else(|| format!("shape {shape:?} declares more than {MAX_ELEMS} elements"))?;
    let data = &bytes[end..];
    let need = n * size;
    if data.len() != need {
        return Err(format!(
            "shape {shape:?} of `{descr}` needs {need} bytes of data, the file has {}",
            data.len()
        ));
    }
    Ok(Header {
        shape,
        kind,
        size,
        big,
        fortran,
        n,
        data,
    })
}

pub fn parse(bytes: &[u8]) -> Result<Array, String> {
    let Header {
        shape,
        kind,
        size,
        big,
        fortran,
        n,
        data,
    } = header(bytes)?;
    let word = |c: &[u8]| -> u64 {
        let mut b = [0u8; 8];
        if big {
            for (i, &x) in c.iter().rev().enumerate() {
                b[i] = x;
            }
        } else {
            b[..c.len()].copy_from_slice(c);
        }
        u64::from_le_bytes(b)
    };
    let chunks = data.chunks_exact(size);
    let mut values = match (kind, size, big) {
        // little-endian floats and int64: the common files, decoded a whole word at a time
        (Kind::Float, 4, false) => Values::Float(
            data.chunks_exact(4)
                .map(|c| f64::from(f32::from_le_bytes(c.try_into().expect("4 bytes"))))
                .collect(),
        ),
        (Kind::Float, 8, false) => Values::Float(
            data.chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
                .collect(),
        ),
        (Kind::Int, 8, false) => Values::Int(
            data.chunks_exact(8)
                .map(|c| i64::from_le_bytes(c.try_into().expect("8 bytes")))
                .collect(),
        ),
        _ => match kind {
            Kind::Bool => Values::Int(chunks.map(|c| i64::from(c[0] != 0)).collect()),
            Kind::Int => Values::Int(
                chunks
                    .map(|c| {
                        let w = word(c);
                        let sh = 64 - 8 * size as u32;
                        ((w << sh) as i64) >> sh
                    })
                    .collect(),
            ),
            Kind::Uint => {
                let v: Vec<u64> = chunks.map(word).collect();
                if let Some(x) = v.iter().find(|&&x| x > i64::MAX as u64) {
                    return Err(format!("value {x} does not fit an int64"));
                }
                Values::Int(v.into_iter().map(|x| x as i64).collect())
            }
            Kind::Float => Values::Float(
                chunks
                    .map(|c| {
                        let w = word(c);
                        if size == 4 {
                            f64::from(f32::from_bits(w as u32))
                        } else {
                            f64::from_bits(w)
                        }
                    })
                    .collect(),
            ),
        },
    };
    if fortran && shape.len() > 1 {
        // column-major to row-major
        let mut strides = vec![1usize; shape.len()];
        for i in 1..shape.len() {
            strides[i] = strides[i - 1] * shape[i - 1];
        }
        let perm: Vec<usize> = (0..n)
            .map(|flat| {
                let mut rem = flat;
                let mut src = 0;
                for (d, &len) in shape.iter().enumerate().rev() {
                    src += (rem % len) * strides[d];
                    rem /= len;
                }
                src
            })
            .collect();
        values = match values {
            Values::Int(v) => Values::Int(perm.iter().map(|&i| v[i]).collect()),
            Values::Float(v) => Values::Float(perm.iter().map(|&i| v[i]).collect()),
        };
    }
    Ok(Array { shape, values })
}

/// Read a `.npy` file (regular files only; its length bounds what is allocated).
pub fn read(path: &Path) -> Result<Array, NpyError> {
    let bytes = read_bytes(path)?;
    parse(&bytes).map_err(|why| NpyError::Format {
        path: path.display().to_string(),
        why,
    })
}

/// The bytes of a `.npy` file (regular files only, of a size ferrite reads).
fn read_bytes(path: &Path) -> Result<Vec<u8>, NpyError> {
    let p = path.display().to_string();
    let io = |err| NpyError::Io {
        path: p.clone(),
        err,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(NpyError::Format {
            path: p,
            why: "not a regular file".into(),
        });
    }
    if meta.len() > (MAX_ELEMS as u64) * 8 + (1 << 20) {
        return Err(NpyError::Format {
            path: p,
            why: format!("{} bytes is larger than ferrite reads", meta.len()),
        });
    }
    std::fs::read(path).map_err(io)
}

/// Frames of `elems` values in an array of `shape`: `(N, elems)` or `(N, ...)` with the
/// rest multiplying to `elems`, or a single frame `(elems,)`.
pub fn frame_count(shape: &[usize], elems: usize, logical: &[usize]) -> Result<usize, String> {
    let count = match shape {
        [] => return Err("a scalar; expected frames of shape (N, elems)".into()),
        [n, rest @ ..] if !rest.is_empty() && rest.iter().product::<usize>() == elems => *n,
        [m] if *m == elems => 1,
        _ => {
            return Err(format!(
                "shape {shape:?} does not hold frames of {elems} elements (shape (N, {elems}) or (N, {logical:?}))"
            ));
        }
    };
    if count == 0 {
        return Err(format!("shape {shape:?} holds no frames"));
    }
    Ok(count)
}

/// What a `.npy` file holds for a model, by the one rule of this module.
#[derive(Clone, Debug, PartialEq)]
pub enum Frames {
    /// The hardware's integer frames (values of the input type).
    Hardware(Vec<Vec<i64>>),
    /// The model's float inputs, one frame a row (host pre-steps not yet applied).
    Float(Vec<Vec<f32>>),
}

/// Read the frames of `path` for `model`.
pub fn frames(model: &Model, path: &Path) -> Result<Frames, NpyError> {
    let bytes = read_bytes(path)?;
    let p = path.display().to_string();
    let bad = |why: String| NpyError::Frames {
        path: p.clone(),
        why,
    };
    let input = model.input();
    let elems = input.tensor.elems();
    // little-endian float32 in C order (the common input file): straight to frames
    if let Ok(h) = header(&bytes)
        && matches!((h.kind, h.size, h.big), (Kind::Float, 4, false))
        && (!h.fortran || h.shape.len() <= 1)
    {
        let n = frame_count(&h.shape, elems, &input.logical_shape()).map_err(&bad)?;
        return Ok(Frames::Float(
            h.data
                .chunks_exact(4 * elems)
                .take(n)
                .map(|f| {
                    f.chunks_exact(4)
                        .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
                        .collect()
                })
                .collect(),
        ));
    }
    let a = parse(&bytes).map_err(|why| NpyError::Format {
        path: p.clone(),
        why,
    })?;
    let n = frame_count(&a.shape, elems, &input.logical_shape()).map_err(&bad)?;
    match a.values {
        Values::Int(v) => {
            let dt = input.tensor.dtype;
            if let Some((i, x)) = v.iter().enumerate().find(|(_, x)| !dt.contains(**x)) {
                return Err(bad(format!(
                    "frame {} element {} is {x}, not a {dt} value (the hardware input type); \
                     integer arrays are the hardware's frames, float arrays the model's float inputs",
                    i / elems,
                    i % elems
                )));
            }
            Ok(Frames::Hardware(
                v.chunks_exact(elems).take(n).map(<[i64]>::to_vec).collect(),
            ))
        }
        Values::Float(v) => Ok(Frames::Float(
            v.chunks_exact(elems)
                .take(n)
                .map(|f| f.iter().map(|&x| x as f32).collect())
                .collect(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(descr: &str, fortran: bool, shape: &str, data: &[u8]) -> Vec<u8> {
        let mut h = format!(
            "{{'descr': '{descr}', 'fortran_order': {}, 'shape': ({shape}), }}",
            if fortran { "True" } else { "False" }
        );
        while (10 + h.len() + 1) % 64 != 0 {
            h.push(' ');
        }
        h.push('\n');
        let mut b = b"\x93NUMPY\x01\x00".to_vec();
        b.extend((h.len() as u16).to_le_bytes());
        b.extend(h.as_bytes());
        b.extend(data);
        b
    }

    #[test]
    fn types_orders_and_endianness() {
        let a = parse(&npy("|i1", false, "2, 2", &[1, 0xff, 3, 0x80])).unwrap();
        assert_eq!(a.values, Values::Int(vec![1, -1, 3, -128]));
        // Fortran order: memory [a00, a10, a01, a11]
        let a = parse(&npy("<i2", true, "2, 2", &[1, 0, 2, 0, 3, 0, 4, 0])).unwrap();
        assert_eq!(a.values, Values::Int(vec![1, 3, 2, 4]));
        let a = parse(&npy(">u2", false, "2,", &[1, 0, 0, 2])).unwrap();
        assert_eq!(a.values, Values::Int(vec![256, 2]));
        let a = parse(&npy("|b1", false, "3,", &[1, 0, 1])).unwrap();
        assert_eq!(a.values, Values::Int(vec![1, 0, 1]));
        let a = parse(&npy("<f4", false, "1,", &1.5f32.to_le_bytes())).unwrap();
        assert_eq!(a.values, Values::Float(vec![1.5]));
    }

    #[test]
    fn declared_sizes_are_checked_before_allocating() {
        // a 1 KB file declaring 10^12 frames
        let e = parse(&npy("<f4", false, "1000000000000, 784", &[0; 1024])).unwrap_err();
        assert!(e.contains("more than") || e.contains("needs"), "{e}");
        let e = parse(&npy("<f4", false, "1000, 10", &[0; 16])).unwrap_err();
        assert!(e.contains("needs 40000 bytes"), "{e}");
        assert!(parse(b"").is_err());
        assert!(parse(&npy("<c8", false, "1,", &[0; 8])).is_err());
        assert!(
            frame_count(&[0, 4], 4, &[4])
                .unwrap_err()
                .contains("no frames")
        );
    }
}
