//! How a single code looks: size, quiet zone, error correction, colours, caption and DPI.
//!
//! Options arrive as query parameters (`?size=800&ecc=q&caption=Scan%20me`) and are checked
//! once here; every refusal names the allowed range or the reason, so a marketer can fix the
//! request without reading code.

use std::fmt;
use std::str::FromStr;

use super::QrError;

/// Parameters [`QrOptions::from_pairs`] accepts; anything else is refused by name.
pub const PARAMETERS: [&str; 8] = [
    "size", "margin", "ecc", "fg", "bg", "caption", "size_mm", "dpi",
];

/// Longest caption in characters; longer text would not fit three lines under a code anyway.
pub const CAPTION_MAX_CHARS: usize = 120;

/// WCAG contrast ratio below which phone cameras start to misread modules in poor light.
pub const MIN_CONTRAST: f64 = 4.0;

/// QR error correction level: how much of the code may be damaged or covered and still scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Ecc {
    /// About 7 % recoverable; the smallest code.
    L,
    /// About 15 % recoverable; the usual choice.
    #[default]
    M,
    /// About 25 % recoverable.
    Q,
    /// About 30 % recoverable; for codes that get dirty or carry a logo.
    H,
}

impl Ecc {
    pub(crate) fn level(self) -> qrcode::EcLevel {
        match self {
            Ecc::L => qrcode::EcLevel::L,
            Ecc::M => qrcode::EcLevel::M,
            Ecc::Q => qrcode::EcLevel::Q,
            Ecc::H => qrcode::EcLevel::H,
        }
    }
}

impl FromStr for Ecc {
    type Err = QrError;

    /// Parses `L`, `M`, `Q` or `H`, in either case.
    fn from_str(text: &str) -> Result<Ecc, QrError> {
        match text.to_ascii_uppercase().as_str() {
            "L" => Ok(Ecc::L),
            "M" => Ok(Ecc::M),
            "Q" => Ok(Ecc::Q),
            "H" => Ok(Ecc::H),
            _ => Err(QrError::Invalid(format!(
                "ecc must be one of L, M, Q, H, got {text:?}"
            ))),
        }
    }
}

impl fmt::Display for Ecc {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            Ecc::L => "L",
            Ecc::M => "M",
            Ecc::Q => "Q",
            Ecc::H => "H",
        })
    }
}

/// An sRGB colour, written and parsed as `#RRGGBB`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb {
    /// Red, 0..=255.
    pub r: u8,
    /// Green, 0..=255.
    pub g: u8,
    /// Blue, 0..=255.
    pub b: u8,
}

impl Rgb {
    /// The default foreground.
    pub const BLACK: Rgb = Rgb { r: 0, g: 0, b: 0 };
    /// The default background.
    pub const WHITE: Rgb = Rgb {
        r: 255,
        g: 255,
        b: 255,
    };

    /// Relative luminance as defined by WCAG 2 (0 for black, 1 for white).
    pub fn relative_luminance(self) -> f64 {
        fn linear(channel: u8) -> f64 {
            let value = f64::from(channel) / 255.0;
            if value <= 0.04045 {
                value / 12.92
            } else {
                ((value + 0.055) / 1.055).powf(2.4)
            }
        }
        0.2126 * linear(self.r) + 0.7152 * linear(self.g) + 0.0722 * linear(self.b)
    }

    /// WCAG contrast ratio between two colours, from 1 (same) to 21 (black on white).
    pub fn contrast_ratio(self, other: Rgb) -> f64 {
        let (a, b) = (self.relative_luminance(), other.relative_luminance());
        (a.max(b) + 0.05) / (a.min(b) + 0.05)
    }

    /// The colour `coverage / 255` of the way from `self` to `toward`; used for the
    /// anti-aliased edges of caption text.
    pub(crate) fn mix(self, toward: Rgb, coverage: u8) -> Rgb {
        let blend = |from: u8, to: u8| {
            let (from, to, t) = (u32::from(from), u32::from(to), u32::from(coverage));
            ((from * (255 - t) + to * t + 127) / 255) as u8
        };
        Rgb {
            r: blend(self.r, toward.r),
            g: blend(self.g, toward.g),
            b: blend(self.b, toward.b),
        }
    }
}

impl FromStr for Rgb {
    type Err = QrError;

    /// Parses `#RRGGBB` or `RRGGBB` (hex digits in either case).
    fn from_str(text: &str) -> Result<Rgb, QrError> {
        let digits = text.strip_prefix('#').unwrap_or(text);
        let invalid = || {
            QrError::Invalid(format!(
                "a colour must be 6 hex digits, #RRGGBB or RRGGBB, got {text:?}"
            ))
        };
        if digits.len() != 6 || !digits.bytes().all(|byte| byte.is_ascii_hexdigit()) {
            return Err(invalid());
        }
        let channel =
            |at: usize| u8::from_str_radix(&digits[at..at + 2], 16).map_err(|_| invalid());
        Ok(Rgb {
            r: channel(0)?,
            g: channel(2)?,
            b: channel(4)?,
        })
    }
}

impl fmt::Display for Rgb {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "#{:02x}{:02x}{:02x}", self.r, self.g, self.b)
    }
}

/// How to draw one code. Build it with [`QrOptions::from_pairs`] or start from
/// [`QrOptions::default`]; the renderers call [`QrOptions::validate`] either way.
#[derive(Debug, Clone, PartialEq)]
pub struct QrOptions {
    /// Image width in pixels (100..=12000); the code is centred in a square of this side
    /// and a caption makes the image taller.
    pub size_px: u32,
    /// Quiet zone in modules (0..=20). The QR standard asks for 4; less may not scan
    /// unless the code is printed on a plain area of the same background colour.
    pub margin: u32,
    /// Error correction level.
    pub ecc: Ecc,
    /// Colour of the dark modules and caption; must be darker than `background`.
    pub foreground: Rgb,
    /// Colour of the light modules, quiet zone and padding.
    pub background: Rgb,
    /// Text under the code (at most 120 characters, no control characters, at most three
    /// lines once wrapped).
    pub caption: Option<String>,
    /// Resolution written into the PNG (pHYs chunk) so print software sizes it right.
    pub dpi: Option<u32>,
    /// Printed width in millimetres when asked for with `size_mm`; the SVG then gives its
    /// width and height in mm. `size_px` still decides the pixel grid.
    pub size_mm: Option<f64>,
}

impl Default for QrOptions {
    fn default() -> Self {
        QrOptions {
            size_px: 600,
            margin: 4,
            ecc: Ecc::M,
            foreground: Rgb::BLACK,
            background: Rgb::WHITE,
            caption: None,
            dpi: None,
            size_mm: None,
        }
    }
}

impl QrOptions {
    /// Parses query parameters: `size` (px, 100..=4000), `margin` (modules, 0..=20; the
    /// standard quiet zone is 4 and less may not scan), `ecc` (L/M/Q/H), `fg` and `bg`
    /// (`#RRGGBB`), `caption` (up to 120 characters), `size_mm` (10..=1000, needs `dpi`) and
    /// `dpi` (72..=1200). `size` and `size_mm` exclude each other; `dpi` alone only sets the
    /// resolution written into the PNG. Unknown or repeated parameters are refused.
    pub fn from_pairs(
        pairs: impl IntoIterator<Item = (String, String)>,
    ) -> Result<QrOptions, QrError> {
        let mut options = QrOptions::default();
        let mut seen: Vec<String> = Vec::new();
        let mut unknown: Vec<String> = Vec::new();
        let (mut size, mut size_mm) = (None, None);
        for (name, value) in pairs {
            if !PARAMETERS.contains(&name.as_str()) {
                unknown.push(name);
                continue;
            }
            if seen.contains(&name) {
                return Err(QrError::Invalid(format!("parameter {name} is given twice")));
            }
            seen.push(name.clone());
            match name.as_str() {
                "size" => size = Some(parse_in_range::<u32>("size", &value, 100, 4000, "px")?),
                "margin" => {
                    options.margin = parse_in_range("margin", &value, 0, 20, "modules")?;
                }
                "ecc" => options.ecc = value.parse()?,
                "fg" => options.foreground = parse_colour("fg", &value)?,
                "bg" => options.background = parse_colour("bg", &value)?,
                "caption" => {
                    let caption = value.trim();
                    options.caption = (!caption.is_empty()).then(|| caption.to_owned());
                }
                "size_mm" => {
                    size_mm = Some(parse_in_range::<f64>(
                        "size_mm", &value, 10.0, 1000.0, "mm",
                    )?);
                }
                "dpi" => options.dpi = Some(parse_in_range("dpi", &value, 72, 1200, "")?),
                _ => unreachable!("every name in PARAMETERS has an arm"),
            }
        }
        if !unknown.is_empty() {
            return Err(QrError::Invalid(format!(
                "unknown parameter(s) {}; allowed: {}",
                unknown.join(", "),
                PARAMETERS.join(", ")
            )));
        }
        match (size, size_mm, options.dpi) {
            (Some(_), Some(_), _) => {
                return Err(QrError::Invalid(
                    "give either size (px, 100..=4000) or size_mm with dpi, not both".into(),
                ));
            }
            (Some(size), None, _) => options.size_px = size,
            (None, Some(_), None) => {
                return Err(QrError::Invalid(
                    "size_mm needs dpi (72..=1200) to know how many pixels to draw".into(),
                ));
            }
            (None, Some(millimetres), Some(dpi)) => {
                let pixels = (millimetres / 25.4 * f64::from(dpi)).round();
                if !(100.0..=12000.0).contains(&pixels) {
                    return Err(QrError::Invalid(format!(
                        "size_mm={millimetres} at dpi={dpi} gives {pixels} px; the image must \
                         be 100..=12000 px wide, so change size_mm or dpi"
                    )));
                }
                options.size_px = pixels as u32;
                options.size_mm = Some(millimetres);
            }
            (None, None, _) => {}
        }
        options.validate()?;
        Ok(options)
    }

    /// Checks the invariants the renderers rely on: ranges, caption text, and colours a
    /// scanner can read (dark on light, contrast ratio at least 4:1).
    pub fn validate(&self) -> Result<(), QrError> {
        if !(100..=12000).contains(&self.size_px) {
            return Err(QrError::Invalid(format!(
                "the image must be 100..=12000 px wide, got {}",
                self.size_px
            )));
        }
        if self.margin > 20 {
            return Err(QrError::Invalid(format!(
                "margin must be 0..=20 modules, got {}",
                self.margin
            )));
        }
        if let Some(millimetres) = self.size_mm.filter(|mm| !(10.0..=1000.0).contains(mm)) {
            return Err(QrError::Invalid(format!(
                "size_mm must be 10..=1000 mm, got {millimetres}"
            )));
        }
        if let Some(dpi) = self.dpi.filter(|dpi| !(72..=1200).contains(dpi)) {
            return Err(QrError::Invalid(format!(
                "dpi must be 72..=1200, got {dpi}"
            )));
        }
        if let Some(caption) = &self.caption {
            check_caption(caption)?;
        }
        check_colours(self.foreground, self.background)
    }
}

fn parse_in_range<T>(name: &str, value: &str, min: T, max: T, unit: &str) -> Result<T, QrError>
where
    T: FromStr + PartialOrd + fmt::Display + Copy,
{
    let allowed = format!(
        "{min}..={max}{}{unit}",
        if unit.is_empty() { "" } else { " " }
    );
    match value.trim().parse::<T>() {
        Ok(number) if number >= min && number <= max => Ok(number),
        _ => Err(QrError::Invalid(format!(
            "{name} must be a number in {allowed}, got {value:?}"
        ))),
    }
}

fn parse_colour(name: &str, value: &str) -> Result<Rgb, QrError> {
    value
        .parse()
        .map_err(|error: QrError| QrError::Invalid(format!("{name}: {error}")))
}

fn check_caption(caption: &str) -> Result<(), QrError> {
    let length = caption.chars().count();
    if length > CAPTION_MAX_CHARS {
        return Err(QrError::Invalid(format!(
            "caption must be at most {CAPTION_MAX_CHARS} characters, got {length}"
        )));
    }
    if caption.chars().any(char::is_control) {
        return Err(QrError::Invalid(
            "caption must not contain control characters such as line breaks or tabs; \
             long captions are wrapped automatically"
                .into(),
        ));
    }
    Ok(())
}

fn check_colours(foreground: Rgb, background: Rgb) -> Result<(), QrError> {
    if foreground.relative_luminance() > background.relative_luminance() {
        return Err(QrError::Invalid(format!(
            "foreground {foreground} is lighter than background {background}; many scanners \
             cannot read light-on-dark (inverted) codes, so use a dark fg on a light bg"
        )));
    }
    let ratio = foreground.contrast_ratio(background);
    if ratio < MIN_CONTRAST {
        return Err(QrError::Invalid(format!(
            "contrast between fg {foreground} and bg {background} is {ratio:.2}:1; scanners \
             need at least {MIN_CONTRAST}:1 to tell dark modules from light ones"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: &[(&str, &str)]) -> Result<QrOptions, QrError> {
        QrOptions::from_pairs(
            query
                .iter()
                .map(|(name, value)| (name.to_string(), value.to_string())),
        )
    }

    fn refusal(query: &[(&str, &str)]) -> String {
        match parse(query) {
            Err(QrError::Invalid(message)) => message,
            other => panic!("{query:?} should be refused, got {other:?}"),
        }
    }

    #[test]
    fn no_parameters_give_a_600_px_black_on_white_code() {
        let options = parse(&[]).unwrap();
        assert_eq!(options, QrOptions::default());
        assert_eq!(
            (options.size_px, options.margin, options.ecc),
            (600, 4, Ecc::M)
        );
    }

    #[test]
    fn every_parameter_is_read() {
        let options = parse(&[
            ("size", "800"),
            ("margin", "2"),
            ("ecc", "q"),
            ("fg", "#1A2B3C"),
            ("bg", "fafafa"),
            ("caption", "  Scan me  "),
            ("dpi", "300"),
        ])
        .unwrap();
        assert_eq!(options.size_px, 800);
        assert_eq!(options.margin, 2);
        assert_eq!(options.ecc, Ecc::Q);
        assert_eq!(
            options.foreground,
            Rgb {
                r: 0x1a,
                g: 0x2b,
                b: 0x3c
            }
        );
        assert_eq!(options.background.to_string(), "#fafafa");
        assert_eq!(options.caption.as_deref(), Some("Scan me"));
        assert_eq!((options.dpi, options.size_mm), (Some(300), None));
    }

    #[test]
    fn size_mm_and_dpi_set_the_pixel_width() {
        let options = parse(&[("size_mm", "50"), ("dpi", "300")]).unwrap();
        assert_eq!(options.size_px, 591);
        assert_eq!((options.dpi, options.size_mm), (Some(300), Some(50.0)));
    }

    #[test]
    fn out_of_range_numbers_are_refused_with_the_range() {
        for (query, range) in [
            (&[("size", "99")][..], "100..=4000 px"),
            (&[("size", "4001")], "100..=4000 px"),
            (&[("size", "big")], "100..=4000 px"),
            (&[("margin", "21")], "0..=20 modules"),
            (&[("dpi", "71")], "72..=1200"),
            (&[("size_mm", "9"), ("dpi", "300")], "10..=1000 mm"),
            (&[("size_mm", "1000"), ("dpi", "1200")], "100..=12000 px"),
            (&[("size_mm", "10"), ("dpi", "72")], "100..=12000 px"),
        ] {
            let message = refusal(query);
            assert!(message.contains(range), "{query:?}: {message}");
        }
    }

    #[test]
    fn size_and_size_mm_together_are_refused() {
        let message = refusal(&[("size", "500"), ("size_mm", "50"), ("dpi", "300")]);
        assert!(message.contains("not both"), "{message}");
    }

    #[test]
    fn size_mm_without_dpi_is_refused() {
        assert!(refusal(&[("size_mm", "50")]).contains("72..=1200"));
    }

    #[test]
    fn unknown_parameters_are_named() {
        let message = refusal(&[("size", "500"), ("colour", "red"), ("x", "1")]);
        assert!(message.contains("colour, x"), "{message}");
        assert!(message.contains("allowed: size, margin"), "{message}");
    }

    #[test]
    fn a_repeated_parameter_is_refused() {
        assert!(refusal(&[("size", "500"), ("size", "600")]).contains("twice"));
    }

    #[test]
    fn bad_ecc_and_colours_are_refused_with_the_accepted_forms() {
        assert!(refusal(&[("ecc", "X")]).contains("L, M, Q, H"));
        assert!(refusal(&[("fg", "#12345")]).starts_with("fg: a colour must be 6 hex digits"));
        assert!(refusal(&[("bg", "gg0000")]).contains("#RRGGBB"));
    }

    #[test]
    fn an_inverted_code_is_refused() {
        let message = refusal(&[("fg", "ffffff"), ("bg", "000000")]);
        assert!(message.contains("lighter than background"), "{message}");
        assert!(message.contains("inverted"), "{message}");
    }

    #[test]
    fn low_contrast_is_refused_with_the_minimum() {
        let message = refusal(&[("fg", "#999999"), ("bg", "#ffffff")]);
        assert!(message.contains("4:1"), "{message}");
        // A dark blue on pale yellow is fine.
        parse(&[("fg", "#003366"), ("bg", "#ffffcc")]).unwrap();
    }

    #[test]
    fn long_or_multi_line_captions_are_refused() {
        let long = "a".repeat(121);
        assert!(refusal(&[("caption", &long)]).contains("at most 120 characters"));
        assert!(refusal(&[("caption", "two\nlines")]).contains("control characters"));
        parse(&[("caption", &"a".repeat(120))]).unwrap();
    }

    #[test]
    fn contrast_ratio_matches_wcag() {
        assert!((Rgb::BLACK.contrast_ratio(Rgb::WHITE) - 21.0).abs() < 1e-9);
        assert!((Rgb::WHITE.contrast_ratio(Rgb::WHITE) - 1.0).abs() < 1e-9);
    }
}
