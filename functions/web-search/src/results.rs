//! Tavily's results as the contract's `{title, url, snippet, score}`: HTML and scripts removed, snippets trimmed,
//! duplicates (by URL) dropped, authoritative domains boosted or, if configured, the only ones kept.

use navigator_platform::contracts::WebResult;

/// The longest snippet kept.
pub const MAX_SNIPPET_CHARS: usize = 500;
/// How much a boosted domain's score is multiplied by.
const BOOST: f32 = 1.5;

/// Which domains count.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DomainPolicy {
    /// Results from these domains (and their subdomains) rank higher.
    pub boost: Vec<String>,
    /// When not empty, results from other domains are dropped.
    pub allow: Vec<String>,
}

impl DomainPolicy {
    /// `WEB_SEARCH_BOOST_DOMAINS` (default: medicare.gov, cms.gov, ssa.gov; a deployment adds its plans' own) and
    /// `WEB_SEARCH_ALLOW_DOMAINS` (default: none, every domain is allowed), comma-separated.
    pub fn from_env() -> Self {
        let list = |name: &str, default: &str| -> Vec<String> {
            std::env::var(name)
                .unwrap_or_else(|_| default.to_string())
                .split(',')
                .map(|d| d.trim().trim_start_matches("www.").to_lowercase())
                .filter(|d| !d.is_empty())
                .collect()
        };
        Self {
            boost: list("WEB_SEARCH_BOOST_DOMAINS", "medicare.gov,cms.gov,ssa.gov"),
            allow: list("WEB_SEARCH_ALLOW_DOMAINS", ""),
        }
    }
}

/// A raw result from the provider.
#[derive(Debug, Clone, PartialEq)]
pub struct RawResult {
    pub title: String,
    pub url: String,
    pub content: String,
    pub score: f32,
}

/// Cleans, filters, boosts, de-duplicates and sorts; at most `max` results.
pub fn normalize(raw: Vec<RawResult>, policy: &DomainPolicy, max: usize) -> Vec<WebResult> {
    let mut seen: Vec<String> = Vec::new();
    let mut results: Vec<WebResult> = Vec::new();
    for result in raw {
        let Some(host) = host(&result.url) else {
            continue;
        };
        if !(result.url.starts_with("https://") || result.url.starts_with("http://")) {
            continue;
        }
        if !policy.allow.is_empty() && !policy.allow.iter().any(|d| in_domain(&host, d)) {
            continue;
        }
        let key = canonical(&result.url);
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        let boosted = policy.boost.iter().any(|d| in_domain(&host, d));
        let score = if result.score.is_finite() {
            result.score.clamp(0.0, 1.0)
        } else {
            0.0
        };
        results.push(WebResult {
            title: trim(&plain_text(&result.title), 200),
            url: result.url,
            snippet: trim(&plain_text(&result.content), MAX_SNIPPET_CHARS),
            score: if boosted { score * BOOST } else { score },
        });
    }
    results.sort_by(|a, b| b.score.total_cmp(&a.score));
    results.truncate(max);
    results
}

fn host(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let host = rest
        .split(['/', '?', '#'])
        .next()?
        .split('@')
        .next_back()?
        .split(':')
        .next()?;
    (!host.is_empty()).then(|| host.trim_start_matches("www.").to_lowercase())
}

fn in_domain(host: &str, domain: &str) -> bool {
    host == domain || host.ends_with(&format!(".{domain}"))
}

/// A URL without its fragment, trailing slash, or `www.`, for de-duplication.
fn canonical(url: &str) -> String {
    let without_fragment = url.split('#').next().unwrap_or(url);
    without_fragment
        .trim_end_matches('/')
        .replacen("://www.", "://", 1)
        .to_lowercase()
}

/// Text with tags removed, and `<script>` and `<style>` removed with their content; common entities decoded.
pub fn plain_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let lower = html.to_lowercase();
    let mut i = 0;
    while i < html.len() {
        let rest = &lower[i..];
        if rest.starts_with("<script") || rest.starts_with("<style") {
            let close = if rest.starts_with("<script") {
                "</script>"
            } else {
                "</style>"
            };
            i += rest.find(close).map_or(rest.len(), |at| at + close.len());
            out.push(' ');
            continue;
        }
        if rest.starts_with('<') {
            i += rest.find('>').map_or(rest.len(), |at| at + 1);
            out.push(' ');
            continue;
        }
        let next = html[i..].chars().next().unwrap_or(' ');
        out.push(next);
        i += next.len_utf8();
    }
    let decoded = out
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'");
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn trim(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max).collect();
    if let Some(space) = cut.rfind(' ') {
        cut.truncate(space);
    }
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(url: &str, content: &str, score: f32) -> RawResult {
        RawResult {
            title: "Title <b>bold</b>".into(),
            url: url.into(),
            content: content.into(),
            score,
        }
    }

    #[test]
    fn html_and_scripts_are_removed_and_snippets_trimmed() {
        let content = format!(
            "<p>Part B&nbsp;premium</p><script>steal()</script><style>p{{}}</style> is $185. {}",
            "word ".repeat(200)
        );
        let results = normalize(
            vec![raw("https://example.com/a", &content, 0.5)],
            &DomainPolicy::default(),
            5,
        );
        assert!(
            results[0].snippet.starts_with("Part B premium is $185."),
            "{}",
            results[0].snippet
        );
        assert!(!results[0].snippet.contains("steal") && !results[0].snippet.contains('<'));
        assert!(results[0].snippet.chars().count() <= MAX_SNIPPET_CHARS + 1);
        assert_eq!(results[0].title, "Title bold");
    }

    #[test]
    fn duplicates_go_and_authoritative_domains_rise() {
        let policy = DomainPolicy {
            boost: vec!["medicare.gov".into()],
            allow: Vec::new(),
        };
        let results = normalize(
            vec![
                raw("https://blog.example.com/premiums", "x", 0.8),
                raw("https://www.medicare.gov/costs#top", "y", 0.6),
                raw("https://medicare.gov/costs/", "z", 0.6),
                raw("javascript:alert(1)", "no", 0.9),
            ],
            &policy,
            5,
        );
        let urls: Vec<&str> = results.iter().map(|r| r.url.as_str()).collect();
        assert_eq!(
            urls,
            vec![
                "https://www.medicare.gov/costs#top",
                "https://blog.example.com/premiums"
            ]
        );
    }

    #[test]
    fn an_allow_list_keeps_only_its_domains() {
        let policy = DomainPolicy {
            boost: Vec::new(),
            allow: vec!["cms.gov".into()],
        };
        let results = normalize(
            vec![
                raw("https://www.cms.gov/a", "x", 0.5),
                raw("https://evil-cms.gov.example/a", "y", 0.9),
            ],
            &policy,
            5,
        );
        assert_eq!(results.len(), 1);
        assert_eq!(results[0].url, "https://www.cms.gov/a");
    }
}
