//! The engagement and clients documents as CSV (for spreadsheets) and the engagement report
//! as one self-contained HTML page (for account managers).
//!
//! Company names, identifiers, markets and contacts are hostile input (docs/SECURITY.md):
//! CSV cells go through [`csv_field`] (quoting, formula guard), HTML text through [`html`]
//! (control characters made visible, then the five HTML specials escaped).

use std::fmt::Write as _;

use super::model::{ClientsReport, CompanyScore, EngagementReport};
use super::score::Band;
use super::window::UtcTime;
use crate::text::{csv_field, escape, plural};

/// The `engagement` document as CSV: a header, then one row per company in the report's
/// order. An absent metric (`support_satisfaction` without surveys) and an absent change are
/// empty cells, never 0.
pub fn engagement_csv(report: &EngagementReport) -> String {
    let mut s = String::from(
        "company_id,identifier,name,industry,overall,band,change,\
         help_desk_usage_raw,help_desk_usage_score,\
         first_touch_resolution_raw,first_touch_resolution_tickets,first_touch_resolution_score,\
         support_satisfaction_raw,support_satisfaction_score,\
         project_engagement_raw,project_engagement_score,procurement_raw,procurement_score\n",
    );
    for c in &report.companies {
        let m = &c.metrics;
        let csat = m.support_satisfaction.as_ref();
        let row = [
            csv_field(&c.company_id),
            csv_field(&c.identifier),
            csv_field(&c.name),
            c.industry.name().to_string(),
            c.overall.to_string(),
            csv_field(c.band.name()),
            c.change.map(|ch| ch.delta.to_string()).unwrap_or_default(),
            m.help_desk_usage.raw.to_string(),
            m.help_desk_usage.score.to_string(),
            m.first_touch_resolution.raw.to_string(),
            m.first_touch_resolution.tickets.to_string(),
            m.first_touch_resolution.score.to_string(),
            csat.map(|s| s.raw.to_string()).unwrap_or_default(),
            csat.map(|s| s.score.to_string()).unwrap_or_default(),
            m.project_engagement.raw.to_string(),
            m.project_engagement.score.to_string(),
            m.procurement.raw.to_string(),
            m.procurement.score.to_string(),
        ];
        s.push_str(&row.join(","));
        s.push('\n');
    }
    s
}

/// The `clients` document as CSV; `types` are joined with `; `, and a company without a
/// primary contact has empty contact cells.
pub fn clients_csv(report: &ClientsReport) -> String {
    let mut s = String::from(
        "company_id,identifier,name,status,types,market,industry,contact_name,contact_email,contact_phone\n",
    );
    for c in &report.clients {
        let contact = c.primary_contact.as_ref();
        let opt = |v: Option<&str>| csv_field(v.unwrap_or_default());
        let row = [
            csv_field(&c.company_id),
            csv_field(&c.identifier),
            csv_field(&c.name),
            opt(c.status.as_deref()),
            csv_field(&c.types.join("; ")),
            opt(c.market.as_deref()),
            c.industry.name().to_string(),
            opt(contact.map(|p| p.name.as_str())),
            opt(contact.and_then(|p| p.email.as_deref())),
            opt(contact.and_then(|p| p.phone.as_deref())),
        ];
        s.push_str(&row.join(","));
        s.push('\n');
    }
    s
}

/// Text for HTML: control and direction characters made visible first ([`escape`]: a name
/// cannot reorder the page), then `& < > " '` escaped, so it is safe in text and in quoted
/// attributes.
fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in escape(s).chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A time for people: `2026-12-01 12:00 UTC`.
fn human(t: UtcTime) -> String {
    let s = t.to_string();
    format!("{} {} UTC", &s[..10], &s[11..16])
}

/// The CSS class of a band (`band-at-risk`).
fn band_class(band: Band) -> &'static str {
    match band {
        Band::Thriving => "band-thriving",
        Band::Healthy => "band-healthy",
        Band::AtRisk => "band-at-risk",
        Band::Critical => "band-critical",
    }
}

/// Inline only: the page's Content-Security-Policy forbids everything else (no fonts,
/// images, scripts or network).
const STYLE: &str = "
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:2rem;color:#1f2933;background:#fff}
h1{font-size:1.5rem;margin:0 0 .25rem}
.meta{color:#52606d;margin:0 0 1rem}
.summary{display:flex;gap:.5rem;flex-wrap:wrap;margin:0 0 1.25rem;padding:0;list-style:none}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.5rem .6rem;border-bottom:1px solid #e4e7eb;vertical-align:top}
th{font-size:.8rem;text-transform:uppercase;letter-spacing:.03em;color:#52606d}
.name{font-weight:600}
.sub{font-weight:400;font-size:.8rem;color:#7b8794}
.overall{min-width:9rem}
.num{font-weight:700;font-size:1.1rem}
.bar{background:#e4e7eb;border-radius:4px;height:.55rem;margin-top:.3rem;overflow:hidden}
.fill{display:block;height:100%}
.mini{height:.35rem}
.chip{display:inline-block;padding:.1rem .55rem;border-radius:999px;color:#fff;font-size:.85rem;white-space:nowrap}
.band-thriving{background:#1f8a4c}
.band-healthy{background:#2f80c0}
.band-at-risk{background:#d98a00}
.band-critical{background:#c62828}
.metric-fill{background:#616e7c}
.down{color:#c62828;font-weight:600}
.up{color:#1f8a4c;font-weight:600}
.same,.none{color:#7b8794}
.legend{color:#52606d;font-size:.85rem;margin-top:1rem}
";

/// A metric cell: its score out of 5 with a small bar, and its raw figure underneath.
fn metric_cell(out: &mut String, score: Option<u8>, raw: &str) {
    match score {
        Some(score) => {
            let _ = write!(
                out,
                "<td><span class=\"num\">{score}</span>/5\
                 <div class=\"bar mini\"><span class=\"fill metric-fill\" style=\"width:{}%\"></span></div>\
                 <div class=\"sub\">{}</div></td>",
                u32::from(score) * 20,
                html(raw)
            );
        }
        None => {
            let _ = write!(
                out,
                "<td class=\"none\" title=\"no data source\">—<div class=\"sub\">{}</div></td>",
                html(raw)
            );
        }
    }
}

fn company_row(out: &mut String, c: &CompanyScore) {
    let m = &c.metrics;
    let class = band_class(c.band);
    let _ = write!(
        out,
        "<tr><td class=\"name\">{}<div class=\"sub\">{} · {} · {}</div></td>\
         <td class=\"overall\"><span class=\"num\">{}</span>\
         <div class=\"bar\"><span class=\"fill {class}\" style=\"width:{}%\"></span></div></td>\
         <td><span class=\"chip {class}\">{}</span></td>",
        html(&c.name),
        html(&c.identifier),
        html(&c.company_id),
        c.industry.name(),
        c.overall,
        c.overall.min(100),
        c.band.name(),
    );
    match c.change {
        Some(ch) if ch.delta < 0 => {
            let _ = write!(
                out,
                "<td class=\"down\">▼ {}<div class=\"sub\">was {} ({})</div></td>",
                -ch.delta, ch.previous_overall, ch.previous_band
            );
        }
        Some(ch) if ch.delta > 0 => {
            let _ = write!(
                out,
                "<td class=\"up\">▲ {}<div class=\"sub\">was {} ({})</div></td>",
                ch.delta, ch.previous_overall, ch.previous_band
            );
        }
        Some(_) => out.push_str("<td class=\"same\">no change</td>"),
        None => out.push_str("<td class=\"none\">—</td>"),
    }
    let ftr = &m.first_touch_resolution;
    metric_cell(
        out,
        Some(m.help_desk_usage.score),
        &plural(m.help_desk_usage.raw, "ticket"),
    );
    metric_cell(
        out,
        Some(ftr.score),
        &format!("{} of {} within 4 h", ftr.raw, ftr.tickets),
    );
    match &m.support_satisfaction {
        Some(s) => metric_cell(
            out,
            Some(s.score),
            &format!(
                "{}% positive ({} of {})",
                (s.raw * 100.0).round(),
                s.positive,
                s.positive + s.neutral + s.negative
            ),
        ),
        None => metric_cell(out, None, "no rated surveys"),
    }
    metric_cell(
        out,
        Some(m.project_engagement.score),
        &format!("{} h billable", m.project_engagement.raw),
    );
    metric_cell(
        out,
        Some(m.procurement.score),
        &format!(
            "{} started or added",
            plural(m.procurement.raw, "agreement")
        ),
    );
    out.push_str("</tr>\n");
}

/// The engagement report as one self-contained HTML page: inline CSS only, a
/// Content-Security-Policy that allows nothing else (no scripts, fonts, images or network),
/// every text from outside escaped. Companies are listed lowest overall score first, so the
/// clients who need attention are at the top; each row shows the overall score as a bar,
/// the band in its colour, the change since the previous snapshot, and the five metrics with
/// their raw figures (`—` for one without a data source).
pub fn engagement_html(report: &EngagementReport) -> String {
    let mut companies: Vec<&CompanyScore> = report.companies.iter().collect();
    companies.sort_by(|a, b| {
        (a.overall, a.name.to_lowercase(), &a.company_id).cmp(&(
            b.overall,
            b.name.to_lowercase(),
            &b.company_id,
        ))
    });
    let w = &report.window;
    let mut out = String::with_capacity(4_096 + 1_500 * companies.len());
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Client engagement, {as_of}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1>Client engagement</h1>\n\
         <p class=\"meta\">As of {as_of} · the last {days} ({from} to {to}) · {n}, lowest score first",
        as_of = human(report.as_of),
        days = plural(u64::from(w.days), "day"),
        from = human(w.from),
        to = human(w.to),
        n = plural(companies.len() as u64, "company"),
    );
    if let Some(prev) = report.previous_as_of {
        let _ = write!(out, " · change since the scores of {}", human(prev));
    }
    out.push_str("</p>\n<ul class=\"summary\">");
    for band in [Band::Critical, Band::AtRisk, Band::Healthy, Band::Thriving] {
        let n = companies.iter().filter(|c| c.band == band).count();
        let _ = write!(
            out,
            "<li class=\"chip {}\">{band}: {n}</li>",
            band_class(band)
        );
    }
    out.push_str(
        "</ul>\n<table>\n<thead><tr><th>Company</th><th>Overall</th><th>Band</th><th>Change</th>\
         <th>Help desk usage</th><th>First-touch resolution</th><th>Support satisfaction</th>\
         <th>Project engagement</th><th>Procurement</th></tr></thead>\n<tbody>\n",
    );
    for c in companies {
        company_row(&mut out, c);
    }
    out.push_str(
        "</tbody>\n</table>\n<p class=\"legend\">Each metric scores 0–5 and weighs 5 (help desk \
         usage), 4 (first-touch resolution), 4 (support satisfaction), 5 (project engagement) \
         and 3 (procurement). The overall score is the weighted share of the best possible, \
         0–100, over the metrics that have data; — marks a metric without a data source, which \
         is left out rather than counted as 0. Bands: 80 and above thriving, 60 healthy, 40 at \
         risk, below 40 critical.</p>\n</body>\n</html>\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engagement::{
        Activity, Client, CompanyRef, CsatTally, Hours, Industry, PrimaryContact, Requests,
        Snapshot, SnapshotEntry, Window,
    };
    use crate::text::parse_utc;

    fn report() -> EngagementReport {
        let window = Window::new(90, parse_utc("2026-12-01T12:00:00Z").unwrap()).unwrap();
        let company = |id: &str, name: &str, activity: Activity| {
            CompanyScore::new(
                CompanyRef {
                    company_id: id.into(),
                    identifier: format!("ID{id}"),
                    name: name.into(),
                },
                Industry::Legal,
                &activity,
            )
        };
        let busy = Activity {
            tickets: 12,
            resolved_within_4h: 6,
            billable_hours: Hours::parse("41.5").unwrap(),
            procurement: 2,
            csat: Some(CsatTally {
                positive: 3,
                neutral: 1,
                negative: 0,
            }),
        };
        let mut r = EngagementReport::new(
            window,
            vec![
                company("250", "Contoso", busy),
                company(
                    "251",
                    "<script>alert('x')</script> & \"Co\"\u{202e}",
                    Activity::default(),
                ),
                company("252", "=HYPERLINK(\"x\")", Activity::default()),
            ],
            Requests { psa: 3, crewhu: 1 },
        );
        r.apply_changes(&Snapshot {
            as_of: Some(crate::engagement::UtcTime(
                parse_utc("2026-11-18T08:26:40Z").unwrap(),
            )),
            companies: vec![SnapshotEntry {
                company_id: "250".into(),
                name: "Contoso".into(),
                overall: 99,
                band: Band::Thriving,
            }],
        });
        r
    }

    #[test]
    fn html_is_self_contained_and_escapes_names() {
        let page = engagement_html(&report());
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(page.contains("<meta charset=\"utf-8\">"));
        assert!(page.contains(
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        ));
        assert!(!page.to_lowercase().contains("<script"), "{page}");
        assert!(page.contains(
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;Co&quot;\\u{202e}"
        ));
        assert!(!page.contains('\u{202e}'));
        for banned in [
            "http://", "https://", "url(", "@import", "<img", "<link", "src=",
        ] {
            assert!(!page.contains(banned), "{banned}");
        }
        // Lowest score first; bars, bands, change, absent metrics.
        let contoso = page.find(">Contoso<").unwrap();
        let hostile = page.find("&lt;script").unwrap();
        assert!(hostile < contoso, "12 comes before Contoso's score");
        assert!(page.contains("style=\"width:12%\""));
        assert!(page.contains("chip band-critical\">critical</span>"));
        assert!(page.contains("▼ "), "Contoso dropped from 99");
        assert!(page.contains("—<div class=\"sub\">no rated surveys</div>"));
        assert!(page.contains("2 agreements started or added"));
        assert!(page.contains("75% positive (3 of 4)"));
        assert!(page.contains("41.5 h billable"));
        assert!(page.contains("6 of 12 within 4 h"));
        assert!(page.contains(
            "As of 2026-12-01 12:00 UTC · the last 90 days (2026-09-02 12:00 UTC to 2026-12-01 12:00 UTC)"
        ));
        assert!(page.contains("change since the scores of 2026-11-18 08:26 UTC"));
    }

    #[test]
    fn engagement_csv_guards_formulas_and_keeps_numbers() {
        let csv = engagement_csv(&report());
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[0].starts_with("company_id,identifier,name,industry,overall,band,change,"));
        assert!(csv.contains("\"'=HYPERLINK(\"\"x\"\")\""), "{csv}");
        let contoso = lines.iter().find(|l| l.starts_with("250,")).unwrap();
        let cells: Vec<&str> = contoso.split(',').collect();
        // 88 now (92 of 105 weighted points), 99 before: a drop of 11 stays a number.
        assert_eq!(&cells[4..7], ["88", "thriving", "-11"], "{contoso}");
        assert_eq!(&cells[12..16], ["0.75", "4", "41.5", "5"]);
        let empty = lines.iter().find(|l| l.starts_with("252,")).unwrap();
        assert!(
            empty.contains(",,,"),
            "absent CSAT and change are empty cells: {empty}"
        );
    }

    #[test]
    fn clients_csv_rows() {
        let doc = ClientsReport {
            clients: vec![Client {
                company_id: "250".into(),
                identifier: "CONTOSO".into(),
                name: "Contoso, Inc.".into(),
                status: Some("Active".into()),
                types: vec!["Client".into(), "Partner".into()],
                market: None,
                industry: Industry::Other,
                primary_contact: Some(PrimaryContact {
                    name: "@Ann".into(),
                    email: None,
                    phone: Some("+1 555 0100".into()),
                }),
            }],
        };
        assert_eq!(
            clients_csv(&doc),
            "company_id,identifier,name,status,types,market,industry,contact_name,contact_email,contact_phone\n\
             250,CONTOSO,\"Contoso, Inc.\",Active,Client; Partner,,other,'@Ann,,'+1 555 0100\n"
        );
    }
}
