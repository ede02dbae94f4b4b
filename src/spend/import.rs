//! Reading ad-platform spend exports (CSV) into one [`SpendRow`] per campaign and day.
//!
//! # Formats
//!
//! The format is recognised from the header row alone, by column *names* (matched through an
//! alias table, trimmed, case-insensitive, whitespace-collapsed), never by column position.
//! Columns that are not in the table are ignored.
//!
//! - [`Format::MetaAds`]: Meta Ads Manager "Export table data", in English, Portuguese or
//!   Spanish. Needs a campaign name ("Campaign name" / "Nome da campanha" / "Nombre de la
//!   campaña"), an amount ("Amount spent (USD)" / "Valor usado (BRL)" / "Importe gastado
//!   (MXN)", the bracketed code becomes the row currency) and either a day ("Day" / "Dia" /
//!   "Día") or both report bounds ("Reporting starts"/"Reporting ends" and translations). A
//!   row whose bounds differ covers several days and is refused with a hint to export with a
//!   daily breakdown. Optional: campaign ID, "Impressions", "Link clicks", "Results".
//! - [`Format::GoogleAds`]: Google Ads campaign report. Up to a few preamble lines (title,
//!   date range) may precede the header; the header is the first line holding "Campaign",
//!   "Day" and "Cost" (optional "Campaign ID", "Currency code", "Impr.", "Clicks"). Footer
//!   lines starting with "Total" ("Total: Account", ...) are skipped.
//! - [`Format::Plain`]: `date,campaign,amount` plus optional `impressions`, `clicks` and
//!   `currency`, in any order.
//!
//! # Rules
//!
//! - Input: at most [`MAX_IMPORT_BYTES`]; UTF-8 (a BOM is stripped) or UTF-16 with a BOM (as
//!   Excel writes "Unicode text"; UTF-16 without a BOM is recognised by its zero bytes).
//!   Anything else is [`ImportError::UnknownEncoding`] naming the first bad byte.
//! - Delimiter: `,`, `;` or tab, sniffed from the header line.
//! - Decimal separator, decided once per file: the first amount that can only be read one
//!   way decides (`1,250.50`, `1.234,56`, `12,5`, `12.50`). If every amount is ambiguous
//!   (`1,234`) or whole, the integer columns decide (`12.345` impressions means `.` groups
//!   thousands), and failing that a `;` delimiter or Portuguese/Spanish headers mean decimal
//!   comma, anything else decimal point. Values that contradict the file's choice are row
//!   errors, never silently rescaled. Currency symbols and codes (`R$`, `$`, `USD`), spaces
//!   and no-break spaces are ignored; an empty amount (or `--`) is zero.
//! - Dates: `YYYY-MM-DD` or `YYYY/MM/DD`; Portuguese and Spanish files also take day-first
//!   `DD/MM/YYYY`. Month-first dates are never guessed.
//! - Rows with the same campaign (ID when present, else name) and day are summed (ad- and
//!   ad-set-level exports); the first row's line is kept and differing currencies are an error
//!   on the later line.
//! - Rows without a campaign name are summary rows: skipped (counted in
//!   [`ParsedSpend::skipped`]) when their amount is zero, when they are the first data row of
//!   a Meta export (where Meta puts its summary), or when their amount equals the file's (or
//!   their day's) total; otherwise they are errors. Rows whose first cell or campaign cell is
//!   `Total`, `Total: ...`, `Totais` or `Totales` are footers and skipped the same way.
//! - Per-row problems are collected into [`ParsedSpend::errors`] with their physical line;
//!   the row is left out and parsing goes on. Blank lines are skipped silently.

use std::{
    borrow::Cow,
    collections::{HashMap, hash_map::Entry},
    fmt,
};

use serde::Serialize;
use time::{Date, Month};

use crate::money::Money;

/// Largest input accepted, in bytes; bigger input is [`ImportError::TooLarge`].
pub const MAX_IMPORT_BYTES: usize = 100 * 1024 * 1024;

/// How many records pass between two calls of the progress callback.
const PROGRESS_EVERY: usize = 1000;
/// How many non-blank lines are searched for the header row.
const HEADER_SEARCH_LINES: usize = 12;
/// Longest cell value quoted in an error message, in characters.
const MAX_QUOTED_CHARS: usize = 60;
/// Longest number accepted, in digits and separators.
const MAX_NUMBER_LEN: usize = 40;
const MICROS_PER_UNIT: i64 = 1_000_000;

const ACCEPTED_FORMATS: &str = "a Meta Ads \"Export table data\" file (Campaign name, Day or \
    Reporting starts/Reporting ends, Amount spent (USD); also in Portuguese or Spanish), a \
    Google Ads campaign report (Campaign, Day, Cost) or a plain file (date, campaign, amount)";

/// The kind of export a file was recognised as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// Meta Ads Manager "Export table data" (English, Portuguese or Spanish).
    MetaAds,
    /// Google Ads campaign report.
    GoogleAds,
    /// `date,campaign,amount[,impressions,clicks][,currency]`.
    Plain,
}

impl Format {
    /// The snake_case name, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::MetaAds => "meta_ads",
            Format::GoogleAds => "google_ads",
            Format::Plain => "plain",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Spend of one campaign on one day, summed over the file's rows for that campaign and day.
#[derive(Debug, Clone, PartialEq)]
pub struct SpendRow {
    /// 1-based physical line of the first data row that contributed.
    pub line: usize,
    /// Campaign name as exported (trimmed).
    pub campaign_name: String,
    /// The platform's campaign ID, when the export has that column.
    pub campaign_external_id: Option<String>,
    /// The day the spend belongs to.
    pub date: Date,
    /// Amount spent, exact.
    pub amount: Money,
    /// Upper-case ISO code from a currency column or the amount header's `(USD)` suffix.
    pub currency: Option<String>,
    /// Impressions, when the export has them.
    pub impressions: Option<i64>,
    /// Link clicks (Meta) or clicks (Google, plain), when the export has them.
    pub clicks: Option<i64>,
    /// Meta "Results", when the export has them.
    pub results: Option<i64>,
}

/// A problem with one row; the row was left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineError {
    /// 1-based physical line in the file.
    pub line: usize,
    /// What is wrong, naming the column and the value; without the `line N: ` prefix, which
    /// [`Display`](fmt::Display) adds.
    pub message: String,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// The outcome of reading a file whose shape was recognised.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedSpend {
    /// The recognised export kind.
    pub format: Format,
    /// One row per campaign and day, in order of first appearance.
    pub rows: Vec<SpendRow>,
    /// Summary and footer rows that were skipped on purpose.
    pub skipped: usize,
    /// Rows that could not be read, ordered by line.
    pub errors: Vec<LineError>,
}

/// A problem with the file as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    /// No content (nothing, or only a BOM and whitespace).
    #[error("the file is empty")]
    Empty,
    /// Neither UTF-8 nor UTF-16 with a BOM.
    #[error(
        "the file is not UTF-8 text: byte 0x{byte:02X} at offset {offset} (line {line}) is \
         not valid; save or export it again as \"CSV UTF-8\""
    )]
    UnknownEncoding {
        /// Offset of the first bad byte in the input.
        offset: usize,
        /// 1-based line of that byte.
        line: usize,
        /// The bad byte.
        byte: u8,
    },
    /// No line among the first few has the columns of a known export.
    #[error("no header row of a known export was found; columns found: {}; expected {}",
        quoted_list(.found), ACCEPTED_FORMATS)]
    NoHeader {
        /// The cells of the widest line near the top of the file.
        found: Vec<String>,
    },
    /// The input is bigger than [`MAX_IMPORT_BYTES`].
    #[error("the file is larger than the {} MiB limit", mib(.limit))]
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The CSV structure itself could not be read.
    #[error("line {line}: {message}")]
    Csv {
        /// 1-based line where reading failed.
        line: usize,
        /// The CSV reader's description.
        message: String,
    },
}

fn quoted_list(items: &[String]) -> String {
    if items.is_empty() {
        return "none".to_owned();
    }
    items
        .iter()
        .map(|s| format!("\"{s}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

fn mib(bytes: &usize) -> usize {
    bytes / (1024 * 1024)
}

/// Reads a spend export; see the [module docs](self) for formats and rules.
pub fn parse(bytes: &[u8]) -> Result<ParsedSpend, ImportError> {
    parse_with_progress(bytes, &mut |_| {})
}

/// Like [`parse`], calling `progress` with the number of input bytes consumed so far every
/// ~1000 records, and once with the input length at the end.
pub fn parse_with_progress(
    bytes: &[u8],
    progress: &mut dyn FnMut(usize),
) -> Result<ParsedSpend, ImportError> {
    if bytes.len() > MAX_IMPORT_BYTES {
        return Err(ImportError::TooLarge {
            limit: MAX_IMPORT_BYTES,
        });
    }
    let decoded = decode(bytes)?;
    let text: &str = &decoded.text;
    if text.trim().is_empty() {
        return Err(ImportError::Empty);
    }
    let header = find_header(text)?;
    let body = text.as_bytes().get(header.offset..).unwrap_or_default();
    // csv positions a record where reading began, before the blank lines it skipped: step
    // over those to get the record's own line.
    let to_line = |pos: Option<&csv::Position>| {
        let Some(p) = pos else {
            return header.line;
        };
        let blank_lines = usize::try_from(p.byte())
            .ok()
            .and_then(|start| body.get(start..))
            .map_or(0, |rest| {
                rest.iter()
                    .take_while(|&&b| b == b'\n' || b == b'\r')
                    .filter(|&&b| b == b'\n')
                    .count()
            });
        header
            .line
            .saturating_add(usize::try_from(p.line()).unwrap_or(usize::MAX))
            .saturating_add(blank_lines)
            .saturating_sub(1)
    };

    let mut reader = csv_reader(body, header.delimiter);
    let mut record = csv::StringRecord::new();
    match reader.read_record(&mut record) {
        Ok(true) => {}
        Ok(false) => return Err(ImportError::Empty),
        Err(e) => return Err(csv_error(&e, to_line(e.position()))),
    }
    let cells: Vec<&str> = record.iter().collect();
    let layout = classify(&cells).ok_or_else(|| ImportError::NoHeader {
        found: found_columns(&cells),
    })?;
    let style = decide_number_style(body, header.delimiter, &layout);

    let mut builder = Builder::new(&layout, style);
    let mut count = 0usize;
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let line = to_line(e.position());
                return Err(csv_error(&e, line));
            }
        }
        let line = to_line(record.position());
        builder.row(&record, line);
        count += 1;
        if count.is_multiple_of(PROGRESS_EVERY) {
            let pos = record
                .position()
                .and_then(|p| usize::try_from(p.byte()).ok())
                .unwrap_or(0);
            progress(decoded.input_offset(header.offset.saturating_add(pos)));
        }
    }
    let parsed = builder.finish(layout.format);
    progress(bytes.len());
    Ok(parsed)
}

// ---------------------------------------------------------------------------------------
// Decoding

/// The input as text, and how to map text offsets back to input offsets for progress.
struct Decoded<'a> {
    text: Cow<'a, str>,
    input_len: usize,
    /// Bytes before the text (a BOM).
    prefix: usize,
    utf16: bool,
}

impl Decoded<'_> {
    fn input_offset(&self, text_pos: usize) -> usize {
        if !self.utf16 {
            return self.prefix.saturating_add(text_pos).min(self.input_len);
        }
        let text_len = self.text.len().max(1) as u128;
        let scaled = (text_pos as u128) * (self.input_len as u128) / text_len;
        usize::try_from(scaled)
            .unwrap_or(self.input_len)
            .min(self.input_len)
    }
}

fn decode(bytes: &[u8]) -> Result<Decoded<'_>, ImportError> {
    let bad = |offset: usize, line: usize| ImportError::UnknownEncoding {
        offset,
        line,
        byte: bytes.get(offset).copied().unwrap_or(0),
    };
    // UTF-32 BOMs start like UTF-16 ones: refuse them rather than decode garbage.
    if bytes.starts_with(&[0xFF, 0xFE, 0, 0]) || bytes.starts_with(&[0, 0, 0xFE, 0xFF]) {
        return Err(bad(0, 1));
    }
    let (text, prefix, utf16) = match bytes {
        [0xFF, 0xFE, rest @ ..] => (Cow::Owned(utf16_to_string(rest, false, 2, bytes)?), 2, true),
        [0xFE, 0xFF, rest @ ..] => (Cow::Owned(utf16_to_string(rest, true, 2, bytes)?), 2, true),
        [0xEF, 0xBB, 0xBF, rest @ ..] => (utf8(rest, 3)?, 3, false),
        _ => match bomless_utf16(bytes) {
            Some(big_endian) => (
                Cow::Owned(utf16_to_string(bytes, big_endian, 0, bytes)?),
                0,
                true,
            ),
            None => (utf8(bytes, 0)?, 0, false),
        },
    };
    let (text, prefix) = match text {
        Cow::Owned(s) if s.starts_with('\u{feff}') => (
            Cow::Owned(s.trim_start_matches('\u{feff}').to_owned()),
            prefix,
        ),
        Cow::Borrowed(s) => {
            let trimmed = s.trim_start_matches('\u{feff}');
            (Cow::Borrowed(trimmed), prefix + s.len() - trimmed.len())
        }
        other => (other, prefix),
    };
    // Classic Mac line endings: make lines countable.
    let text = if text.contains('\r') && !text.contains('\n') {
        Cow::Owned(text.replace('\r', "\n"))
    } else {
        text
    };
    Ok(Decoded {
        text,
        input_len: bytes.len(),
        prefix,
        utf16,
    })
}

fn utf8(body: &[u8], prefix: usize) -> Result<Cow<'_, str>, ImportError> {
    match std::str::from_utf8(body) {
        Ok(s) => Ok(Cow::Borrowed(s)),
        Err(e) => {
            let at = e.valid_up_to();
            let line = body
                .get(..at)
                .map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count())
                + 1;
            Err(ImportError::UnknownEncoding {
                offset: prefix + at,
                line,
                byte: body.get(at).copied().unwrap_or(0),
            })
        }
    }
}

/// UTF-16 without a BOM: mostly-ASCII text has a zero in every other byte.
fn bomless_utf16(bytes: &[u8]) -> Option<bool> {
    let sample = &bytes[..bytes.len().min(4096) & !1];
    let pairs = sample.len() / 2;
    if pairs < 2 {
        return None;
    }
    let zero_even = sample.iter().step_by(2).filter(|&&b| b == 0).count();
    let zero_odd = sample
        .iter()
        .skip(1)
        .step_by(2)
        .filter(|&&b| b == 0)
        .count();
    if zero_odd * 10 >= pairs * 7 && zero_even * 10 <= pairs {
        Some(false)
    } else if zero_even * 10 >= pairs * 7 && zero_odd * 10 <= pairs {
        Some(true)
    } else {
        None
    }
}

fn utf16_to_string(
    body: &[u8],
    big_endian: bool,
    prefix: usize,
    input: &[u8],
) -> Result<String, ImportError> {
    let units = body.chunks_exact(2).map(|c| {
        let pair = [c[0], c[1]];
        if big_endian {
            u16::from_be_bytes(pair)
        } else {
            u16::from_le_bytes(pair)
        }
    });
    let mut out = String::with_capacity(body.len() / 2 + 16);
    let mut line = 1usize;
    let mut offset = 0usize;
    for unit in char::decode_utf16(units) {
        match unit {
            Ok(c) => {
                if c == '\n' {
                    line += 1;
                }
                offset += c.len_utf16() * 2;
                out.push(c);
            }
            Err(_) => {
                return Err(ImportError::UnknownEncoding {
                    offset: prefix + offset,
                    line,
                    byte: input.get(prefix + offset).copied().unwrap_or(0),
                });
            }
        }
    }
    if body.len() % 2 == 1 {
        let offset = prefix + body.len() - 1;
        return Err(ImportError::UnknownEncoding {
            offset,
            line,
            byte: input.get(offset).copied().unwrap_or(0),
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Header recognition

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Campaign,
    CampaignId,
    Day,
    Starts,
    Ends,
    Amount,
    Impressions,
    Clicks,
    Results,
    Currency,
}

const ROLE_COUNT: usize = 10;

/// The language an alias belongs to; Portuguese and Spanish files use day-first dates and
/// (by default) decimal commas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Lang {
    Any,
    En,
    PtEs,
}

use Lang::{Any, En, PtEs};
use Role::{
    Amount, Campaign, CampaignId, Clicks, Currency, Day, Ends, Impressions, Results, Starts,
};

const META_ALIASES: &[(&str, Role, Lang)] = &[
    ("campaign name", Campaign, En),
    ("nome da campanha", Campaign, PtEs),
    ("nombre de la campaña", Campaign, PtEs),
    ("campaign id", CampaignId, En),
    ("identificação da campanha", CampaignId, PtEs),
    ("id da campanha", CampaignId, PtEs),
    ("identificador de la campaña", CampaignId, PtEs),
    ("id de la campaña", CampaignId, PtEs),
    ("day", Day, En),
    ("dia", Day, PtEs),
    ("día", Day, PtEs),
    ("reporting starts", Starts, En),
    ("início dos relatórios", Starts, PtEs),
    ("inicio del informe", Starts, PtEs),
    ("reporting ends", Ends, En),
    ("término dos relatórios", Ends, PtEs),
    ("fin del informe", Ends, PtEs),
    ("amount spent", Amount, En),
    ("valor usado", Amount, PtEs),
    ("valor gasto", Amount, PtEs),
    ("importe gastado", Amount, PtEs),
    ("impressions", Impressions, En),
    ("impressões", Impressions, PtEs),
    ("impresiones", Impressions, PtEs),
    ("link clicks", Clicks, En),
    ("cliques no link", Clicks, PtEs),
    ("clics en el enlace", Clicks, PtEs),
    ("results", Results, En),
    ("resultados", Results, PtEs),
    ("currency", Currency, Any),
    ("currency code", Currency, Any),
    ("moeda", Currency, PtEs),
    ("moneda", Currency, PtEs),
    ("divisa", Currency, PtEs),
];

const GOOGLE_ALIASES: &[(&str, Role, Lang)] = &[
    ("campaign", Campaign, En),
    ("campanha", Campaign, PtEs),
    ("campaña", Campaign, PtEs),
    ("campaign id", CampaignId, En),
    ("id da campanha", CampaignId, PtEs),
    ("id de la campaña", CampaignId, PtEs),
    ("id de campaña", CampaignId, PtEs),
    ("day", Day, En),
    ("dia", Day, PtEs),
    ("día", Day, PtEs),
    ("cost", Amount, En),
    ("custo", Amount, PtEs),
    ("coste", Amount, PtEs),
    ("costo", Amount, PtEs),
    ("impr.", Impressions, Any),
    ("impressions", Impressions, En),
    ("clicks", Clicks, En),
    ("cliques", Clicks, PtEs),
    ("clics", Clicks, PtEs),
    ("currency code", Currency, Any),
    ("currency", Currency, Any),
    ("código da moeda", Currency, PtEs),
    ("código de moneda", Currency, PtEs),
];

const PLAIN_ALIASES: &[(&str, Role, Lang)] = &[
    ("date", Day, Any),
    ("campaign", Campaign, Any),
    ("amount", Amount, Any),
    ("impressions", Impressions, Any),
    ("clicks", Clicks, Any),
    ("currency", Currency, Any),
];

/// Where each column of a recognised header is, resolved once per file.
#[derive(Debug)]
struct Layout {
    format: Format,
    lang: Lang,
    columns: [Option<usize>; ROLE_COUNT],
    /// Header cells as written (trimmed), for messages.
    names: Vec<String>,
    /// Currency from the amount header's `(XXX)` suffix.
    header_currency: Option<String>,
}

impl Layout {
    fn col(&self, role: Role) -> Option<usize> {
        self.columns[role as usize]
    }

    fn has(&self, role: Role) -> bool {
        self.col(role).is_some()
    }

    fn name(&self, role: Role) -> &str {
        self.col(role)
            .and_then(|i| self.names.get(i))
            .map_or("?", String::as_str)
    }
}

struct AliasHit {
    role: Role,
    lang: Lang,
    currency: Option<String>,
}

fn normalize(cell: &str) -> String {
    cell.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn lookup(name: &str, table: &[(&str, Role, Lang)]) -> Option<AliasHit> {
    let find = |n: &str| table.iter().find(|(alias, _, _)| *alias == n);
    if let Some(&(_, role, lang)) = find(name) {
        return Some(AliasHit {
            role,
            lang,
            currency: None,
        });
    }
    // "Amount spent (USD)": the amount column may carry its currency in brackets.
    let inner_start = name.strip_suffix(')')?.rfind('(')?;
    let base = name[..inner_start].trim_end();
    let inner = name[inner_start + 1..name.len() - 1].trim();
    let &(_, role, lang) = find(base)?;
    if role != Amount {
        return None;
    }
    let currency = (inner.len() == 3 && inner.bytes().all(|b| b.is_ascii_alphabetic()))
        .then(|| inner.to_ascii_uppercase());
    Some(AliasHit {
        role,
        lang,
        currency,
    })
}

fn classify(cells: &[&str]) -> Option<Layout> {
    let normalized: Vec<String> = cells.iter().map(|c| normalize(c)).collect();
    let tables = [
        (Format::MetaAds, META_ALIASES),
        (Format::GoogleAds, GOOGLE_ALIASES),
        (Format::Plain, PLAIN_ALIASES),
    ];
    for (format, table) in tables {
        let mut layout = Layout {
            format,
            lang: Any,
            columns: [None; ROLE_COUNT],
            names: Vec::new(),
            header_currency: None,
        };
        for (i, name) in normalized.iter().enumerate() {
            let Some(hit) = lookup(name, table) else {
                continue;
            };
            let slot = &mut layout.columns[hit.role as usize];
            if slot.is_none() {
                *slot = Some(i);
                layout.lang = layout.lang.max(hit.lang);
                if hit.role == Amount {
                    layout.header_currency = hit.currency;
                }
            }
        }
        let dated = layout.has(Day)
            || (format == Format::MetaAds && layout.has(Starts) && layout.has(Ends));
        if layout.has(Campaign) && layout.has(Amount) && dated {
            layout.names = cells
                .iter()
                .map(|c| c.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}'))
                .map(str::to_owned)
                .collect();
            return Some(layout);
        }
    }
    None
}

struct HeaderPos {
    /// Byte offset of the header line in the text.
    offset: usize,
    /// 1-based line number of the header line.
    line: usize,
    delimiter: u8,
}

fn csv_reader(data: &[u8], delimiter: u8) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(data)
}

fn split_line(line: &str, delimiter: u8) -> Vec<String> {
    let mut record = csv::StringRecord::new();
    match csv_reader(line.as_bytes(), delimiter).read_record(&mut record) {
        Ok(true) => record.iter().map(str::to_owned).collect(),
        _ => Vec::new(),
    }
}

fn found_columns<S: AsRef<str>>(cells: &[S]) -> Vec<String> {
    cells
        .iter()
        .take(40)
        .map(|c| quote_value(c.as_ref().trim()))
        .collect()
}

/// The first of the top lines that splits (on `,`, `;` or tab) into a known header.
fn find_header(text: &str) -> Result<HeaderPos, ImportError> {
    let mut offset = 0usize;
    let mut widest: Vec<String> = Vec::new();
    let mut non_blank = 0usize;
    for (index, raw) in text.split_inclusive('\n').enumerate() {
        let start = offset;
        offset += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        if line.trim().is_empty() {
            continue;
        }
        non_blank += 1;
        if non_blank > HEADER_SEARCH_LINES {
            break;
        }
        let mut best: Option<(usize, u8)> = None;
        for delimiter in [b',', b';', b'\t'] {
            let cells = split_line(line, delimiter);
            let refs: Vec<&str> = cells.iter().map(String::as_str).collect();
            if classify(&refs).is_some() && best.is_none_or(|(n, _)| cells.len() > n) {
                best = Some((cells.len(), delimiter));
            }
            if cells.len() > widest.len() {
                widest = cells;
            }
        }
        if let Some((_, delimiter)) = best {
            return Ok(HeaderPos {
                offset: start,
                line: index + 1,
                delimiter,
            });
        }
    }
    Err(ImportError::NoHeader {
        found: found_columns(&widest),
    })
}

fn csv_error(e: &csv::Error, line: usize) -> ImportError {
    ImportError::Csv {
        line,
        message: e.to_string(),
    }
}

// ---------------------------------------------------------------------------------------
// Numbers

/// Which character separates decimals in this file; the other one groups thousands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct NumberStyle {
    decimal: u8,
}

impl NumberStyle {
    const POINT: NumberStyle = NumberStyle { decimal: b'.' };
    const COMMA: NumberStyle = NumberStyle { decimal: b',' };

    fn group(self) -> u8 {
        if self.decimal == b'.' { b',' } else { b'.' }
    }

    fn example(self) -> &'static str {
        if self.decimal == b'.' {
            "1,234.56"
        } else {
            "1.234,56"
        }
    }
}

/// What one number says about the file's decimal separator.
enum Evidence {
    None,
    /// The value can only be read with this decimal separator.
    Decimal(u8),
    /// One separator followed by exactly three digits (`1,234`): a decimal or a group.
    Ambiguous(u8),
}

fn other_separator(c: u8) -> u8 {
    if c == b'.' { b',' } else { b'.' }
}

fn separator_evidence(value: &str) -> Evidence {
    let b = value.as_bytes();
    let mut last: Option<usize> = None;
    let mut dots = 0usize;
    let mut commas = 0usize;
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'.' => dots += 1,
            b',' => commas += 1,
            _ => continue,
        }
        last = Some(i);
    }
    let Some(at) = last else {
        return Evidence::None;
    };
    let sep = b[at];
    if dots > 0 && commas > 0 {
        return Evidence::Decimal(sep);
    }
    if dots + commas > 1 {
        // The same separator twice can only group thousands.
        return Evidence::Decimal(other_separator(sep));
    }
    let after = b[at + 1..]
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .count();
    let before = b[..at]
        .iter()
        .rev()
        .take_while(|c| c.is_ascii_digit())
        .count();
    let leading_zero = before == 1 && b[at - 1] == b'0';
    if after == 3 && (1..=3).contains(&before) && !leading_zero {
        Evidence::Ambiguous(sep)
    } else {
        Evidence::Decimal(sep)
    }
}

/// Picks the file's decimal separator; see the module docs.
fn decide_number_style(body: &[u8], delimiter: u8, layout: &Layout) -> NumberStyle {
    let amount_col = layout.col(Amount);
    let int_cols = [
        layout.col(Impressions),
        layout.col(Clicks),
        layout.col(Results),
    ];
    let mut from_integers: Option<u8> = None;
    let mut reader = csv_reader(body, delimiter);
    let mut record = csv::ByteRecord::new();
    let mut first = true;
    while let Ok(true) = reader.read_byte_record(&mut record) {
        if std::mem::take(&mut first) {
            continue; // the header
        }
        let text = |col: Option<usize>| {
            col.and_then(|i| record.get(i))
                .and_then(|b| std::str::from_utf8(b).ok())
                .unwrap_or("")
        };
        if let Evidence::Decimal(sep) = separator_evidence(text(amount_col)) {
            return NumberStyle { decimal: sep };
        }
        if from_integers.is_none() {
            for col in int_cols {
                from_integers = match separator_evidence(text(col)) {
                    Evidence::None => continue,
                    Evidence::Decimal(sep) => Some(sep),
                    Evidence::Ambiguous(sep) => Some(other_separator(sep)),
                };
                break;
            }
        }
    }
    match from_integers {
        Some(decimal) => NumberStyle { decimal },
        None if delimiter == b';' || layout.lang == PtEs => NumberStyle::COMMA,
        None => NumberStyle::POINT,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NumberError {
    NotANumber,
    Negative,
    TooManyDecimals,
    TooLarge,
    NotWhole,
}

/// `true` for cells that mean "nothing": empty, `-` or `--`.
fn is_nothing(cell: &str) -> bool {
    cell.is_empty() || cell.bytes().all(|b| b == b'-')
}

fn is_currency_symbol(c: char) -> bool {
    matches!(
        c,
        '$' | '€'
            | '£'
            | '¥'
            | '₹'
            | '₩'
            | '₽'
            | '¢'
            | '₺'
            | '₪'
            | '₫'
            | '₱'
            | '฿'
            | '₦'
            | '₴'
            | '₡'
            | '₲'
            | '₵'
            | '₸'
            | '₼'
    )
}

fn strip_sign<'s>(s: &'s str, negative: &mut bool) -> &'s str {
    let s = s.trim_start();
    if let Some(rest) = s.strip_prefix(['-', '\u{2212}']) {
        *negative = true;
        rest.trim_start()
    } else if let Some(rest) = s.strip_prefix('+') {
        rest.trim_start()
    } else {
        s
    }
}

/// Strips `$`, `R$`, `US$`, `USD ` in front.
fn strip_currency_prefix(s: &str) -> &str {
    let letters = s.bytes().take_while(u8::is_ascii_uppercase).count();
    let rest = &s[letters..];
    let symbols: usize = rest
        .chars()
        .take_while(|&c| is_currency_symbol(c))
        .map(char::len_utf8)
        .sum();
    if symbols > 0 && letters <= 3 {
        rest[symbols..].trim_start()
    } else if symbols == 0 && letters == 3 {
        rest.trim_start()
    } else {
        s
    }
}

/// Strips `€`, ` USD` behind.
fn strip_currency_suffix(s: &str) -> &str {
    let s = s.trim_end();
    let without_symbols = s.trim_end_matches(is_currency_symbol);
    if without_symbols.len() < s.len() {
        return without_symbols.trim_end();
    }
    let b = s.as_bytes();
    if b.len() > 3 && b[b.len() - 3..].iter().all(u8::is_ascii_uppercase) {
        let before = b[b.len() - 4];
        if before.is_ascii_digit() || before.is_ascii_whitespace() {
            return s[..s.len() - 3].trim_end();
        }
    }
    s
}

/// Reduces a cell to digits and separators in `buf`; `Ok((negative, len))`.
fn clean_number(
    raw: &str,
    allow_currency: bool,
    buf: &mut [u8; MAX_NUMBER_LEN],
) -> Result<(bool, usize), NumberError> {
    let mut negative = false;
    let mut s = raw.trim();
    if let Some(inner) = s.strip_prefix('(').and_then(|x| x.strip_suffix(')')) {
        negative = true;
        s = inner;
    }
    s = strip_sign(s, &mut negative);
    if allow_currency {
        s = strip_currency_prefix(s);
        s = strip_sign(s, &mut negative);
        s = strip_currency_suffix(s);
    }
    let mut len = 0usize;
    for c in s.chars() {
        if c.is_ascii_digit() || c == '.' || c == ',' {
            let slot = buf.get_mut(len).ok_or(NumberError::TooLarge)?;
            *slot = c as u8;
            len += 1;
        } else if !c.is_whitespace() {
            return Err(NumberError::NotANumber);
        }
    }
    if !buf[..len].iter().any(u8::is_ascii_digit) {
        return Err(NumberError::NotANumber);
    }
    Ok((negative, len))
}

/// Splits digits and separators into a whole part (grouping checked) and a fraction.
fn whole_and_fraction(b: &[u8], style: NumberStyle) -> Result<(i64, &[u8]), NumberError> {
    let group = style.group();
    let (whole, fraction) = match b.iter().position(|&c| c == style.decimal) {
        Some(i) => (&b[..i], &b[i + 1..]),
        None => (b, &b[..0]),
    };
    let has_point = whole.len() < b.len();
    if has_point && (fraction.is_empty() || !fraction.iter().all(u8::is_ascii_digit)) {
        return Err(NumberError::NotANumber);
    }
    if whole.contains(&group) {
        for (k, digits) in whole.split(|&c| c == group).enumerate() {
            let size_ok = if k == 0 {
                (1..=3).contains(&digits.len())
            } else {
                digits.len() == 3
            };
            if !size_ok {
                return Err(NumberError::NotANumber);
            }
        }
    } else if whole.is_empty() && !has_point {
        return Err(NumberError::NotANumber);
    }
    let mut value: i64 = 0;
    for &c in whole.iter().filter(|&&c| c != group) {
        if !c.is_ascii_digit() {
            return Err(NumberError::NotANumber);
        }
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(i64::from(c - b'0')))
            .ok_or(NumberError::TooLarge)?;
    }
    Ok((value, fraction))
}

/// An amount cell to micros: exact, never through floating point.
fn parse_amount(raw: &str, style: NumberStyle) -> Result<Money, NumberError> {
    if is_nothing(raw.trim()) {
        return Ok(Money::from_micros(0));
    }
    let mut buf = [0u8; MAX_NUMBER_LEN];
    let (negative, len) = clean_number(raw, true, &mut buf)?;
    let (whole, fraction) = whole_and_fraction(&buf[..len], style)?;
    if fraction.len() > 6 {
        return Err(NumberError::TooManyDecimals);
    }
    let mut fraction_micros: i64 = 0;
    for i in 0..6 {
        let digit = fraction.get(i).map_or(0, |&c| i64::from(c - b'0'));
        fraction_micros = fraction_micros * 10 + digit;
    }
    let micros = whole
        .checked_mul(MICROS_PER_UNIT)
        .and_then(|w| w.checked_add(fraction_micros))
        .ok_or(NumberError::TooLarge)?;
    if negative && micros != 0 {
        return Err(NumberError::Negative);
    }
    Ok(Money::from_micros(micros))
}

/// A count cell (impressions, clicks, results); `None` when empty or `--`.
fn parse_count(raw: &str, style: NumberStyle) -> Result<Option<i64>, NumberError> {
    if is_nothing(raw.trim()) {
        return Ok(None);
    }
    let mut buf = [0u8; MAX_NUMBER_LEN];
    let (negative, len) = clean_number(raw, false, &mut buf)?;
    let (whole, fraction) = whole_and_fraction(&buf[..len], style)?;
    if fraction.iter().any(|&c| c != b'0') {
        return Err(NumberError::NotWhole);
    }
    if negative && whole != 0 {
        return Err(NumberError::Negative);
    }
    Ok(Some(whole))
}

// ---------------------------------------------------------------------------------------
// Dates

fn parse_date(raw: &str, day_first: bool) -> Option<Date> {
    // Tolerate a midnight time part ("2026-11-05 00:00:00").
    let date = raw.split([' ', 'T']).next().unwrap_or(raw);
    let mut parts = date.split(['-', '/', '.']);
    let (a, b, c) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let number = |s: &str, max_len: usize| -> Option<u16> {
        if s.is_empty() || s.len() > max_len || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    let (year, month, day) = if a.len() == 4 {
        (number(a, 4)?, number(b, 2)?, number(c, 2)?)
    } else if day_first && c.len() == 4 {
        (number(c, 4)?, number(b, 2)?, number(a, 2)?)
    } else {
        return None;
    };
    let month = Month::try_from(u8::try_from(month).ok()?).ok()?;
    Date::from_calendar_date(i32::from(year), month, u8::try_from(day).ok()?).ok()
}

fn expected_date(lang: Lang) -> &'static str {
    if lang == PtEs {
        "expected DD/MM/YYYY or YYYY-MM-DD (e.g. 05/11/2026)"
    } else {
        "expected YYYY-MM-DD (e.g. 2026-11-05); month/day order is not guessed"
    }
}

// ---------------------------------------------------------------------------------------
// Rows

fn quote_value(value: &str) -> String {
    if value.chars().count() <= MAX_QUOTED_CHARS {
        value.to_owned()
    } else {
        let mut cut: String = value.chars().take(MAX_QUOTED_CHARS).collect();
        cut.push('…');
        cut
    }
}

fn cell(record: &csv::StringRecord, col: Option<usize>) -> &str {
    col.and_then(|i| record.get(i)).map_or("", str::trim)
}

fn is_total_label(cell: &str) -> bool {
    let c = cell.trim();
    ["total", "totais", "totales"]
        .iter()
        .any(|t| c.eq_ignore_ascii_case(t))
        || c.get(..6).is_some_and(|p| p.eq_ignore_ascii_case("total:"))
}

/// A row without a campaign name, judged once the file's totals are known.
struct SummaryCandidate {
    line: usize,
    amount: Money,
    date: Option<Date>,
    first_data_row: bool,
}

/// Accumulates rows, merging those of the same campaign and day.
struct Builder<'l> {
    layout: &'l Layout,
    style: NumberStyle,
    rows: Vec<SpendRow>,
    index: HashMap<(bool, String, Date), usize>,
    errors: Vec<LineError>,
    skipped: usize,
    candidates: Vec<SummaryCandidate>,
    seen_data_row: bool,
}

impl<'l> Builder<'l> {
    fn new(layout: &'l Layout, style: NumberStyle) -> Self {
        Builder {
            layout,
            style,
            rows: Vec::new(),
            index: HashMap::new(),
            errors: Vec::new(),
            skipped: 0,
            candidates: Vec::new(),
            seen_data_row: false,
        }
    }

    fn error(&mut self, line: usize, message: String) {
        self.errors.push(LineError { line, message });
    }

    fn take<T>(&mut self, line: usize, result: Result<T, String>) -> Option<T> {
        result.map_err(|m| self.error(line, m)).ok()
    }

    fn amount(&self, record: &csv::StringRecord) -> Result<Money, String> {
        let raw = cell(record, self.layout.col(Amount));
        parse_amount(raw, self.style).map_err(|e| {
            let column = self.layout.name(Amount);
            let value = quote_value(raw);
            match e {
                NumberError::Negative => format!("\"{column}\" value \"{value}\" is negative"),
                NumberError::TooManyDecimals => {
                    format!("\"{column}\" value \"{value}\" has more than 6 decimals")
                }
                NumberError::TooLarge => format!("\"{column}\" value \"{value}\" is too large"),
                NumberError::NotANumber | NumberError::NotWhole => format!(
                    "\"{column}\" value \"{value}\" is not an amount like {}",
                    self.style.example()
                ),
            }
        })
    }

    fn count(&self, record: &csv::StringRecord, role: Role) -> Result<Option<i64>, String> {
        let raw = cell(record, self.layout.col(role));
        parse_count(raw, self.style).map_err(|e| {
            let column = self.layout.name(role);
            let value = quote_value(raw);
            match e {
                NumberError::Negative => format!("\"{column}\" value \"{value}\" is negative"),
                NumberError::TooLarge => format!("\"{column}\" value \"{value}\" is too large"),
                NumberError::NotANumber | NumberError::NotWhole | NumberError::TooManyDecimals => {
                    format!("\"{column}\" value \"{value}\" is not a whole number")
                }
            }
        })
    }

    fn date_in(&self, record: &csv::StringRecord, role: Role) -> Result<Date, String> {
        let raw = cell(record, self.layout.col(role));
        let column = self.layout.name(role);
        if raw.is_empty() {
            return Err(format!("\"{column}\" is empty"));
        }
        parse_date(raw, self.layout.lang == PtEs).ok_or_else(|| {
            format!(
                "\"{column}\" value \"{}\" is not a date; {}",
                quote_value(raw),
                expected_date(self.layout.lang)
            )
        })
    }

    fn date(&self, record: &csv::StringRecord) -> Result<Date, String> {
        let bounds = self.layout.has(Starts) && self.layout.has(Ends);
        if !bounds || !cell(record, self.layout.col(Day)).is_empty() {
            return self.date_in(record, Day);
        }
        let starts = self.date_in(record, Starts)?;
        let ends = self.date_in(record, Ends)?;
        if starts == ends {
            Ok(starts)
        } else {
            Err(format!(
                "row covers {starts}..{ends}; export with a daily breakdown \
                 (Breakdown > By time > Day)"
            ))
        }
    }

    fn currency(&self, record: &csv::StringRecord) -> Result<Option<String>, String> {
        let raw = cell(record, self.layout.col(Currency));
        if raw.is_empty() {
            return Ok(self.layout.header_currency.clone());
        }
        let column = self.layout.name(Currency);
        if raw.len() != 3 || !raw.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(format!(
                "\"{column}\" value \"{}\" is not a 3-letter currency code like USD",
                quote_value(raw)
            ));
        }
        let code = raw.to_ascii_uppercase();
        match &self.layout.header_currency {
            Some(h) if *h != code => Err(format!(
                "\"{column}\" value \"{code}\" differs from the {h} in \"{}\"",
                self.layout.name(Amount)
            )),
            _ => Ok(Some(code)),
        }
    }

    fn row(&mut self, record: &csv::StringRecord, line: usize) {
        if record.iter().all(|c| c.trim().is_empty()) {
            return;
        }
        let first_data_row = !std::mem::replace(&mut self.seen_data_row, true);
        let name = cell(record, self.layout.col(Campaign));
        if is_total_label(record.get(0).unwrap_or("")) || is_total_label(name) {
            self.skipped += 1;
            return;
        }
        let amount = self.amount(record);
        let Some(amount) = self.take(line, amount) else {
            return;
        };
        if name.is_empty() {
            if amount.micros() == 0 {
                self.skipped += 1;
            } else {
                let date = self.date(record).ok();
                self.candidates.push(SummaryCandidate {
                    line,
                    amount,
                    date,
                    first_data_row,
                });
            }
            return;
        }
        let date = self.date(record);
        let date = self.take(line, date);
        let currency = self.currency(record);
        let currency = self.take(line, currency);
        let impressions = self.count(record, Impressions);
        let impressions = self.take(line, impressions);
        let clicks = self.count(record, Clicks);
        let clicks = self.take(line, clicks);
        let results = self.count(record, Results);
        let results = self.take(line, results);
        let (Some(date), Some(currency), Some(impressions), Some(clicks), Some(results)) =
            (date, currency, impressions, clicks, results)
        else {
            return;
        };
        let id = cell(record, self.layout.col(CampaignId));
        let key = if id.is_empty() {
            (false, name.to_owned(), date)
        } else {
            (true, id.to_owned(), date)
        };
        match self.index.entry(key) {
            Entry::Vacant(slot) => {
                let campaign_external_id = slot.key().0.then(|| slot.key().1.clone());
                slot.insert(self.rows.len());
                self.rows.push(SpendRow {
                    line,
                    campaign_name: name.to_owned(),
                    campaign_external_id,
                    date,
                    amount,
                    currency,
                    impressions,
                    clicks,
                    results,
                });
            }
            Entry::Occupied(slot) => {
                let i = *slot.get();
                let layout = self.layout;
                let merged = match self.rows.get_mut(i) {
                    Some(row) => merge(
                        row,
                        amount,
                        currency,
                        [impressions, clicks, results],
                        layout,
                    ),
                    None => Ok(()),
                };
                if let Err(message) = merged {
                    self.error(line, message);
                }
            }
        }
    }

    fn finish(mut self, format: Format) -> ParsedSpend {
        if !self.candidates.is_empty() {
            let total: i128 = self
                .rows
                .iter()
                .map(|r| i128::from(r.amount.micros()))
                .sum();
            let mut per_day: HashMap<Date, i128> = HashMap::new();
            for row in &self.rows {
                *per_day.entry(row.date).or_default() += i128::from(row.amount.micros());
            }
            for c in std::mem::take(&mut self.candidates) {
                let amount = i128::from(c.amount.micros());
                let day_total = c.date.and_then(|d| per_day.get(&d).copied());
                let meta_summary = c.first_data_row && format == Format::MetaAds;
                if meta_summary || amount == total || day_total == Some(amount) {
                    self.skipped += 1;
                } else {
                    let message = format!(
                        "\"{}\" is empty but \"{}\" is {}",
                        self.layout.name(Campaign),
                        self.layout.name(Amount),
                        c.amount
                    );
                    self.error(c.line, message);
                }
            }
        }
        self.errors.sort_by_key(|e| e.line);
        ParsedSpend {
            format,
            rows: self.rows,
            skipped: self.skipped,
            errors: self.errors,
        }
    }
}

/// Adds a later row of the same campaign and day into `row`, or leaves `row` untouched and
/// says why not.
fn merge(
    row: &mut SpendRow,
    amount: Money,
    currency: Option<String>,
    counts: [Option<i64>; 3],
    layout: &Layout,
) -> Result<(), String> {
    if let (Some(a), Some(b)) = (&row.currency, &currency)
        && a != b
    {
        let column = if layout.has(Currency) {
            layout.name(Currency)
        } else {
            layout.name(Amount)
        };
        return Err(format!(
            "\"{column}\" value \"{b}\" differs from {a} on line {} for the same campaign and day",
            row.line
        ));
    }
    let overflow = || format!("summing this row with line {} overflows", row.line);
    let amount = row
        .amount
        .micros()
        .checked_add(amount.micros())
        .ok_or_else(overflow)?;
    let add = |a: Option<i64>, b: Option<i64>| match (a, b) {
        (Some(a), Some(b)) => a.checked_add(b).map(Some).ok_or_else(overflow),
        (a, b) => Ok(a.or(b)),
    };
    let [impressions, clicks, results] = counts;
    let impressions = add(row.impressions, impressions)?;
    let clicks = add(row.clicks, clicks)?;
    let results = add(row.results, results)?;
    row.amount = Money::from_micros(amount);
    if row.currency.is_none() {
        row.currency = currency;
    }
    row.impressions = impressions;
    row.clicks = clicks;
    row.results = results;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn ok(csv: &str) -> ParsedSpend {
        match parse(csv.as_bytes()) {
            Ok(parsed) => parsed,
            Err(e) => panic!("expected a parse, got {e}"),
        }
    }

    fn money(text: &str) -> Money {
        text.parse().expect("test amount")
    }

    fn messages(parsed: &ParsedSpend) -> Vec<String> {
        parsed.errors.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn meta_export_in_english_with_quoted_thousands_is_read() {
        let parsed = ok("\
Reporting starts,Reporting ends,Campaign name,Campaign ID,Day,Results,Result indicator,Impressions,Link clicks,Amount spent (USD)
2026-11-01,2026-11-30,Black Friday WA,120210000000000001,2026-11-05,42,actions:onsite_conversion.messaging_conversation_started_7d,\"12,345\",310,\"1,250.50\"
2026-11-01,2026-11-30,Black Friday WA,120210000000000001,2026-11-06,7,actions:onsite_conversion.messaging_conversation_started_7d,900,12,19.99
");
        assert_eq!(parsed.format, Format::MetaAds);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        assert_eq!(
            parsed.rows[0],
            SpendRow {
                line: 2,
                campaign_name: "Black Friday WA".into(),
                campaign_external_id: Some("120210000000000001".into()),
                date: date!(2026 - 11 - 05),
                amount: Money::from_micros(1_250_500_000),
                currency: Some("USD".into()),
                impressions: Some(12_345),
                clicks: Some(310),
                results: Some(42),
            }
        );
        assert_eq!(parsed.rows[1].amount, money("19.99"));
        assert_eq!(parsed.rows[1].line, 3);
    }

    #[test]
    fn utf8_bom_is_stripped_before_the_header() {
        let csv = "\u{feff}Campaign name,Day,Amount spent (EUR)\nWinter,2026-11-05,3.10\n";
        let parsed = ok(csv);
        assert_eq!(parsed.format, Format::MetaAds);
        assert_eq!(parsed.rows[0].currency.as_deref(), Some("EUR"));
        assert_eq!(parsed.rows[0].amount, money("3.10"));
    }

    #[test]
    fn reporting_starts_and_ends_on_the_same_day_give_the_date() {
        let parsed = ok("\
Reporting starts,Reporting ends,Campaign name,Amount spent (USD),Impressions,Link clicks
2026-11-05,2026-11-05,Leads BR,10.00,1000,20
2026/11/06,2026/11/06,Leads BR,11.00,1100,22
");
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let dates: Vec<Date> = parsed.rows.iter().map(|r| r.date).collect();
        assert_eq!(dates, [date!(2026 - 11 - 05), date!(2026 - 11 - 06)]);
    }

    #[test]
    fn reporting_range_over_several_days_is_a_row_error() {
        let parsed = ok("\
Reporting starts,Reporting ends,Campaign name,Amount spent (USD)
2026-11-01,2026-11-30,Leads BR,310.00
2026-11-05,2026-11-05,Leads BR,10.00
");
        assert_eq!(parsed.rows.len(), 1);
        assert_eq!(
            messages(&parsed),
            [
                "line 2: row covers 2026-11-01..2026-11-30; export with a daily breakdown \
              (Breakdown > By time > Day)"
            ]
        );
    }

    #[test]
    fn meta_export_in_portuguese_with_semicolons_and_decimal_commas_is_read() {
        let parsed = ok("\
Início dos relatórios;Término dos relatórios;Nome da campanha;Identificação da campanha;Dia;Resultados;Impressões;Cliques no link;Valor usado (BRL)
2026-11-01;2026-11-30;Promo Natal;2385;05/11/2026;4;1.200;35;R$ 1.234,56
2026-11-01;2026-11-30;Promo Natal;2385;06/11/2026;;980;12;87,5
");
        assert_eq!(parsed.format, Format::MetaAds);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let first = &parsed.rows[0];
        assert_eq!(first.date, date!(2026 - 11 - 05));
        assert_eq!(first.amount, money("1234.56"));
        assert_eq!(first.currency.as_deref(), Some("BRL"));
        assert_eq!(first.impressions, Some(1200));
        assert_eq!(first.campaign_external_id.as_deref(), Some("2385"));
        let second = &parsed.rows[1];
        assert_eq!(second.amount, money("87.5"));
        assert_eq!(second.results, None);
    }

    #[test]
    fn meta_export_in_spanish_with_commas_and_quoted_decimal_commas_is_read() {
        let parsed = ok("\
Nombre de la campaña,Día,Importe gastado (MXN),Impresiones,Clics en el enlace,Resultados
Buen Fin,2026-11-05,\"1.234,56\",\"15.000\",120,9
Buen Fin,06/11/2026,\"1234,5\",800,10,1
");
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        assert_eq!(parsed.rows[0].amount, money("1234.56"));
        assert_eq!(parsed.rows[0].impressions, Some(15_000));
        assert_eq!(parsed.rows[0].currency.as_deref(), Some("MXN"));
        assert_eq!(parsed.rows[1].amount, money("1234.5"));
        assert_eq!(parsed.rows[1].date, date!(2026 - 11 - 06));
    }

    #[test]
    fn portuguese_headers_with_point_decimals_are_not_rescaled() {
        // The numbers decide before the language does: 12.50 can only be twelve and a half.
        let parsed =
            ok("Nome da campanha,Dia,Valor usado (BRL)\nA,2026-11-05,12.50\nB,2026-11-05,1.234\n");
        assert_eq!(parsed.rows[0].amount, money("12.50"));
        assert_eq!(parsed.rows[1].amount, money("1.234"));
    }

    #[test]
    fn ambiguous_amounts_follow_the_file_language() {
        let english = ok("Campaign name,Day,Amount spent (USD)\nA,2026-11-05,\"1,234\"\n");
        assert_eq!(english.rows[0].amount, money("1234"));
        let portuguese = ok("Nome da campanha;Dia;Valor usado (BRL)\nA;2026-11-05;1.234\n");
        assert_eq!(portuguese.rows[0].amount, money("1234"));
        let portuguese_comma = ok("Nome da campanha;Dia;Valor usado (BRL)\nA;2026-11-05;1,234\n");
        assert_eq!(portuguese_comma.rows[0].amount, money("1.234"));
    }

    #[test]
    fn google_ads_report_with_preamble_and_total_footer_is_read() {
        let parsed = ok("\
Campaign report
\"November 1, 2026 - November 30, 2026\"
Campaign,Campaign ID,Day,Currency code,Cost,Impr.,Clicks
Search - Brand,1234567890,2026-11-05,USD,\"1,234.56\",\"10,000\",250
Search - Brand,1234567890,2026-11-06,USD,12.00,800,20
Total: Account,--,--,USD,\"1,246.56\",\"10,800\",270
Total: Campaigns,--,--,USD,\"1,246.56\",\"10,800\",270
");
        assert_eq!(parsed.format, Format::GoogleAds);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        assert_eq!(parsed.skipped, 2);
        assert_eq!(parsed.rows.len(), 2);
        let first = &parsed.rows[0];
        assert_eq!(first.line, 4);
        assert_eq!(first.campaign_name, "Search - Brand");
        assert_eq!(first.campaign_external_id.as_deref(), Some("1234567890"));
        assert_eq!(first.amount, money("1234.56"));
        assert_eq!(first.currency.as_deref(), Some("USD"));
        assert_eq!((first.impressions, first.clicks), (Some(10_000), Some(250)));
        assert_eq!(first.results, None);
        assert_eq!(parsed.rows[1].line, 5);
    }

    #[test]
    fn plain_file_with_columns_in_any_order_is_read() {
        let parsed = ok(
            "amount,date,campaign,currency\n12.50,2026-11-05,spring,usd\n0,2026-11-06,spring,USD\n",
        );
        assert_eq!(parsed.format, Format::Plain);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let row = &parsed.rows[0];
        assert_eq!(row.amount, money("12.50"));
        assert_eq!(row.currency.as_deref(), Some("USD"));
        assert_eq!(
            (row.impressions, row.clicks, row.results),
            (None, None, None)
        );
        assert_eq!(row.campaign_external_id, None);
    }

    #[test]
    fn zero_amount_rows_are_kept() {
        let parsed = ok("date,campaign,amount,impressions,clicks\n2026-11-05,spring,0.00,1500,3\n");
        assert_eq!(parsed.rows.len(), 1);
        assert_eq!(parsed.rows[0].amount, Money::from_micros(0));
        assert_eq!(parsed.rows[0].impressions, Some(1500));
    }

    #[test]
    fn ad_level_rows_for_the_same_campaign_and_day_are_summed() {
        let parsed = ok("\
Campaign name,Ad set name,Ad name,Day,Amount spent (USD),Impressions,Link clicks,Results
Leads,Set A,Ad 1,2026-11-05,1.10,100,1,
Leads,Set A,Ad 2,2026-11-05,2.20,200,,1
Other,Set B,Ad 3,2026-11-05,5.00,50,5,0
Leads,Set B,Ad 4,2026-11-05,3.30,300,3,2
Leads,Set A,Ad 1,2026-11-06,4.00,400,4,
");
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        assert_eq!(parsed.rows.len(), 3);
        let leads = &parsed.rows[0];
        assert_eq!(leads.line, 2);
        assert_eq!(leads.amount, money("6.60"));
        assert_eq!(leads.impressions, Some(600));
        assert_eq!(leads.clicks, Some(4));
        assert_eq!(leads.results, Some(3));
        assert_eq!(parsed.rows[1].campaign_name, "Other");
        assert_eq!(parsed.rows[2].date, date!(2026 - 11 - 06));
    }

    #[test]
    fn rows_sharing_a_campaign_id_are_summed_even_if_renamed() {
        let parsed = ok("\
Campaign,Campaign ID,Day,Cost
Old name,77,2026-11-05,1.00
New name,77,2026-11-05,2.00
");
        assert_eq!(parsed.rows.len(), 1);
        assert_eq!(parsed.rows[0].campaign_name, "Old name");
        assert_eq!(parsed.rows[0].amount, money("3"));
    }

    #[test]
    fn different_currencies_for_the_same_campaign_and_day_are_an_error_on_the_later_line() {
        let parsed = ok("\
Campaign,Day,Currency code,Cost
Brand,2026-11-05,USD,1.00
Brand,2026-11-05,EUR,2.00
");
        assert_eq!(parsed.rows.len(), 1);
        assert_eq!(parsed.rows[0].amount, money("1"));
        assert_eq!(
            messages(&parsed),
            [
                "line 3: \"Currency code\" value \"EUR\" differs from USD on line 2 for the same \
              campaign and day"
            ]
        );
    }

    #[test]
    fn bad_rows_are_all_reported_with_their_line_numbers() {
        let parsed = ok("\
Campaign name,Day,Amount spent (USD),Impressions,Currency
Good,2026-11-05,1.00,10,

Bad date,2026-13-05,1.00,10,
Month first,11/05/2026,1.00,10,
Bad count,2026-11-05,1.00,ten,
Bad amount,2026-11-05,\"12,3,4\",10,
Bad currency,2026-11-05,1.00,10,US
Two problems,yesterday,abc,10,
,2026-11-05,9.00,10,
");
        assert_eq!(parsed.rows.len(), 1);
        assert_eq!(
            messages(&parsed),
            [
                "line 4: \"Day\" value \"2026-13-05\" is not a date; expected YYYY-MM-DD \
                 (e.g. 2026-11-05); month/day order is not guessed",
                "line 5: \"Day\" value \"11/05/2026\" is not a date; expected YYYY-MM-DD \
                 (e.g. 2026-11-05); month/day order is not guessed",
                "line 6: \"Impressions\" value \"ten\" is not a whole number",
                "line 7: \"Amount spent (USD)\" value \"12,3,4\" is not an amount like 1,234.56",
                "line 8: \"Currency\" value \"US\" is not a 3-letter currency code like USD",
                "line 9: \"Amount spent (USD)\" value \"abc\" is not an amount like 1,234.56",
                "line 10: \"Campaign name\" is empty but \"Amount spent (USD)\" is 9.00",
            ]
        );
    }

    #[test]
    fn meta_summary_rows_without_a_campaign_name_are_skipped() {
        let parsed = ok("\
Reporting starts,Reporting ends,Campaign name,Day,Amount spent (USD)
2026-11-01,2026-11-30,,,\"1,003.00\"
2026-11-01,2026-11-30,A,2026-11-05,1000.00
2026-11-01,2026-11-30,B,2026-11-05,3.00
2026-11-01,2026-11-30,,2026-11-05,1003.00
2026-11-01,2026-11-30,,2026-11-06,0
");
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        assert_eq!(parsed.rows.len(), 2);
        assert_eq!(parsed.skipped, 3);
    }

    #[test]
    fn negative_amounts_are_rejected() {
        let parsed = ok(
            "date,campaign,amount\n2026-11-05,a,-12.50\n2026-11-05,b,(3.00)\n2026-11-05,c,$-1\n",
        );
        assert!(parsed.rows.is_empty());
        assert_eq!(
            messages(&parsed),
            [
                "line 2: \"amount\" value \"-12.50\" is negative",
                "line 3: \"amount\" value \"(3.00)\" is negative",
                "line 4: \"amount\" value \"$-1\" is negative",
            ]
        );
    }

    #[test]
    fn amounts_with_more_than_six_decimals_are_rejected() {
        let parsed = ok("date,campaign,amount\n2026-11-05,a,1.1234567\n2026-11-05,b,1.123456\n");
        assert_eq!(parsed.rows.len(), 1);
        assert_eq!(parsed.rows[0].amount, Money::from_micros(1_123_456));
        assert_eq!(
            messages(&parsed),
            ["line 2: \"amount\" value \"1.1234567\" has more than 6 decimals"]
        );
    }

    #[test]
    fn amount_notations_are_read_exactly() {
        let point = NumberStyle::POINT;
        let comma = NumberStyle::COMMA;
        for (text, style, micros) in [
            ("1,250.50", point, 1_250_500_000),
            ("$1,250.50", point, 1_250_500_000),
            ("US$ 1,250.50", point, 1_250_500_000),
            ("1234.56", point, 1_234_560_000),
            ("12,345,678.000001", point, 12_345_678_000_001),
            ("1.234,56", comma, 1_234_560_000),
            ("1234,56", comma, 1_234_560_000),
            ("R$ 1.234,56", comma, 1_234_560_000),
            ("R$\u{a0}1.234,56", comma, 1_234_560_000),
            ("1\u{a0}234,56 €", comma, 1_234_560_000),
            ("12.50 USD", point, 12_500_000),
            ("0,5", comma, 500_000),
            ("", point, 0),
            ("--", point, 0),
            ("-0.00", point, 0),
        ] {
            assert_eq!(
                parse_amount(text, style).map(Money::micros),
                Ok(micros),
                "{text}"
            );
        }
        for (text, style, error) in [
            ("12,3,4", point, NumberError::NotANumber),
            ("1234,56", point, NumberError::NotANumber),
            ("1.234,56", point, NumberError::NotANumber),
            ("1,234.56", comma, NumberError::NotANumber),
            ("12.", point, NumberError::NotANumber),
            ("1e3", point, NumberError::NotANumber),
            ("abc", point, NumberError::NotANumber),
            ("$", point, NumberError::NotANumber),
            ("-5", point, NumberError::Negative),
            ("0.0000001", point, NumberError::TooManyDecimals),
            ("99999999999999999999", point, NumberError::TooLarge),
        ] {
            assert_eq!(parse_amount(text, style), Err(error), "{text}");
        }
    }

    #[test]
    fn utf16le_with_bom_is_decoded() {
        let text = "Campaign name\tDay\tAmount spent (USD)\r\nNatal ☃\t2026-11-05\t1.50\r\n";
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        let parsed = parse(&bytes).expect("utf-16le parses");
        assert_eq!(parsed.rows[0].campaign_name, "Natal ☃");
        assert_eq!(parsed.rows[0].amount, money("1.50"));

        let mut big = vec![0xFE, 0xFF];
        big.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
        assert_eq!(parse(&big).expect("utf-16be parses").rows, parsed.rows);

        let bomless: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert_eq!(
            parse(&bomless).expect("bomless utf-16le parses").rows,
            parsed.rows
        );
    }

    #[test]
    fn invalid_bytes_are_an_unknown_encoding_naming_where() {
        // "Impressões" saved as Windows-1252.
        let latin1 = b"Nome da campanha;Dia;Valor usado (BRL);Impress\xF5es\nA;2026-11-05;1,00;1\n";
        assert_eq!(
            parse(latin1),
            Err(ImportError::UnknownEncoding {
                offset: 46,
                line: 1,
                byte: 0xF5
            })
        );
        let later = b"date,campaign,amount\n2026-11-05,ok,1\n2026-11-05,caf\xE9,1\n";
        let err = parse(later).expect_err("not utf-8");
        assert!(matches!(
            err,
            ImportError::UnknownEncoding {
                line: 3,
                byte: 0xE9,
                ..
            }
        ));
        assert!(err.to_string().contains("line 3"), "{err}");
        // A lone surrogate in UTF-16.
        assert!(matches!(
            parse(&[0xFF, 0xFE, b'a', 0, 0x00, 0xD8, b'b', 0]),
            Err(ImportError::UnknownEncoding { offset: 4, .. })
        ));
    }

    #[test]
    fn empty_input_is_rejected() {
        for input in [
            &b""[..],
            b"\xEF\xBB\xBF",
            b"  \n\r\n\t",
            b"\xEF\xBB\xBF \n",
            b"\xFF\xFE",
        ] {
            assert_eq!(parse(input), Err(ImportError::Empty), "{input:?}");
        }
    }

    #[test]
    fn unknown_header_lists_the_columns_found() {
        let err = parse(b"Week;Spend;Notes\n45;12,00;x\n").expect_err("unknown");
        assert_eq!(
            err,
            ImportError::NoHeader {
                found: vec!["Week".into(), "Spend".into(), "Notes".into()]
            }
        );
        let shown = err.to_string();
        assert!(shown.contains("\"Week\", \"Spend\", \"Notes\""), "{shown}");
        assert!(
            shown.contains("Campaign name") && shown.contains("Cost"),
            "{shown}"
        );
    }

    #[test]
    fn too_large_input_is_rejected() {
        let big = vec![b'a'; MAX_IMPORT_BYTES + 1];
        assert_eq!(
            parse(&big),
            Err(ImportError::TooLarge {
                limit: MAX_IMPORT_BYTES
            })
        );
    }

    #[test]
    fn blank_and_delimiter_only_lines_are_skipped_silently() {
        let parsed = ok("date;campaign;amount\n\n;;\n2026-11-05;a;1\n\r\n");
        assert_eq!(parsed.rows.len(), 1);
        assert_eq!(parsed.rows[0].line, 4);
        assert_eq!((parsed.skipped, parsed.errors.len()), (0, 0));
    }

    #[test]
    fn progress_is_reported_in_input_bytes() {
        let mut csv = String::from("date,campaign,amount\n");
        for i in 0..2500 {
            csv.push_str(&format!("2026-11-05,c{i},1.00\n"));
        }
        let mut seen = Vec::new();
        let parsed = parse_with_progress(csv.as_bytes(), &mut |n| seen.push(n)).expect("parses");
        assert_eq!(parsed.rows.len(), 2500);
        assert_eq!(seen.len(), 3);
        assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
        assert_eq!(seen.last(), Some(&csv.len()));
    }

    #[test]
    fn format_serializes_as_snake_case() {
        for format in [Format::MetaAds, Format::GoogleAds, Format::Plain] {
            let json = serde_json::to_string(&format).expect("serializes");
            assert_eq!(json, format!("\"{}\"", format.as_str()));
        }
    }

    #[test]
    fn mangled_inputs_never_panic() {
        let samples: [&[u8]; 4] = [
            "\u{feff}Reporting starts,Reporting ends,Campaign name,Day,Amount spent (USD),Impressions\n2026-11-01,2026-11-30,,,\"1,003.00\",9\nA,2026-11-05,2026-11-05,2026-11-05,\"1,000.00\",\"1,200\"\n".as_bytes(),
            "Nome da campanha;Dia;Valor usado (BRL)\nPromo;05/11/2026;R$ 1.234,56\n".as_bytes(),
            b"Campaign report\n\"Nov 1, 2026\"\nCampaign,Day,Cost\nX,2026-11-05,\"1,2\"\nTotal: Account,,1\n",
            b"date,campaign,amount\n2026-11-05,a,99999999999999.999999\n",
        ];
        let oddities: [&[u8]; 12] = [
            b"\"",
            b";;;\n;;;",
            b"\xFF\xFE\x00",
            b"\xFE\xFF\xD8\x00",
            b"\x00\x00\x00\x00",
            b"date,campaign,amount\n\"unterminated,2026-11-05,1\n",
            b"date,campaign,amount\n2026-11-05,a,\xE2\x80\n",
            b"date,campaign,amount\n2026-11-05,a,(\n2026-11-05,a,)\n2026-11-05,a,-\xE2\x88\x92$\n",
            b"date,campaign,amount\n2026-11-05,a,,,,,,,,,,\n,,\n2026-11-05\n",
            b"Campaign name,Day,Amount spent ()\nA,2026-11-05,1\n",
            b"Campaign name,Day,Amount spent (\xC3\xA9\xC3\xA9\xC3\xA9)\nA,0000-00-00,1\n",
            b"\r\r\rdate,campaign,amount\r2026-11-05,a,1\r",
        ];
        let mut inputs: Vec<Vec<u8>> = oddities.iter().map(|s| s.to_vec()).collect();
        let mut seed: u32 = 0x2545_f491;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed as usize
        };
        for sample in samples {
            for cut in 0..=sample.len() {
                inputs.push(sample[..cut].to_vec());
            }
            for _ in 0..300 {
                let mut mangled = sample.to_vec();
                for _ in 0..1 + next() % 4 {
                    let at = next() % mangled.len();
                    let pool = b"\",;\t\n\r.-0$\xC3\xFF \x00";
                    let byte = pool[next() % pool.len()];
                    match next() % 3 {
                        0 => mangled[at] = byte,
                        1 => mangled.insert(at, byte),
                        _ => {
                            mangled.remove(at);
                        }
                    }
                    if mangled.is_empty() {
                        break;
                    }
                }
                inputs.push(mangled);
            }
        }
        for input in &inputs {
            // Any outcome is fine; a panic fails the test.
            let _ = parse(input);
        }
    }

    /// `cargo test --release -- --ignored --nocapture large_meta_export` to time it.
    #[test]
    #[ignore = "timing; run in release"]
    fn large_meta_export_parses_quickly() {
        // 500 campaigns (ad-level rows, heavily merged), then every row its own campaign-day.
        for campaigns in [500u32, 100_000] {
            let mut csv = String::from(
                "Reporting starts,Reporting ends,Campaign name,Campaign ID,Ad set name,Ad name,\
                 Day,Results,Result indicator,Impressions,Link clicks,Amount spent (USD)\n",
            );
            for i in 0..100_000u32 {
                let c = if campaigns == 500 { i % 500 } else { i / 30 };
                csv.push_str(&format!(
                    "2026-11-01,2026-11-30,Campaign {c},{id},Set {s},Ad {a},2026-11-{day:02},{r},\
                     actions:onsite_conversion.messaging_conversation_started_7d,\
                     \"{imp},{imp2:03}\",{clicks},\"1,{cents:03}.{frac:02}\"\n",
                    id = 120_000 + c,
                    s = i % 7,
                    a = i % 13,
                    day = 1 + i % 30,
                    r = i % 9,
                    imp = 1 + i % 50,
                    imp2 = i % 1000,
                    clicks = i % 300,
                    cents = i % 1000,
                    frac = i % 100,
                ));
            }
            let started = std::time::Instant::now();
            let parsed = parse(csv.as_bytes()).expect("parses");
            let elapsed = started.elapsed();
            println!(
                "100000 rows, {} bytes -> {} rows in {elapsed:?}",
                csv.len(),
                parsed.rows.len()
            );
            assert!(parsed.errors.is_empty(), "{:?}", parsed.errors.first());
            assert!(elapsed < std::time::Duration::from_secs(1), "{elapsed:?}");
        }
    }
}
