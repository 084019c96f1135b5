//! Content negotiation: OpenMetrics when the scraper asks for it, the
//! Prometheus text format 0.0.4 otherwise.

use crate::exposition::Format;

/// Picks the exposition format from an `Accept` header value.
pub fn format_for(accept: Option<&str>) -> Format {
    let Some(accept) = accept else {
        return Format::Text004;
    };
    let wants_openmetrics = accept.split(',').any(|part| {
        let mut params = part.split(';');
        let media = params.next().unwrap_or("").trim();
        let refused = params.any(|p| p.trim().replace(' ', "") == "q=0");
        media.eq_ignore_ascii_case("application/openmetrics-text") && !refused
    });
    if wants_openmetrics {
        Format::OpenMetrics
    } else {
        Format::Text004
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_scrape_accept_header_gets_openmetrics() {
        let prom = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert_eq!(format_for(Some(prom)), Format::OpenMetrics);
    }

    #[test]
    fn everything_else_gets_text004() {
        assert_eq!(format_for(None), Format::Text004);
        assert_eq!(format_for(Some("text/plain")), Format::Text004);
        assert_eq!(format_for(Some("*/*")), Format::Text004);
        assert_eq!(
            format_for(Some("application/openmetrics-text;q=0")),
            Format::Text004
        );
    }
}
