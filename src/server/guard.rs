//! What the web configuration puts in front of every endpoint: basic
//! authentication (answered 401 without running the handler) and the
//! configured response headers (on every answer, 401 and 404 included).

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};

use crate::webconfig::{Users, WebConfig};

/// Wraps `router` (every route and the fallback) in the web configuration's
/// authentication and headers.
pub fn protect(router: Router, web: &WebConfig) -> Router {
    let mut router = router;
    if let Some(users) = web.users.clone() {
        router = router.layer(middleware::from_fn_with_state(users, require_credentials));
    }
    if !web.headers.is_empty() {
        let headers = Arc::new(web.headers.clone());
        router = router.layer(middleware::from_fn_with_state(headers, add_headers));
    }
    router
}

async fn require_credentials(
    State(users): State<Arc<Users>>,
    request: Request,
    next: Next,
) -> Response {
    let allowed = users
        .allows(
            request
                .headers()
                .get(header::AUTHORIZATION)
                .map(HeaderValue::as_bytes),
        )
        .await;
    if allowed {
        next.run(request).await
    } else {
        (
            StatusCode::UNAUTHORIZED,
            [(
                header::WWW_AUTHENTICATE,
                "Basic realm=\"appliance_exporter\"",
            )],
            "Unauthorized\n",
        )
            .into_response()
    }
}

async fn add_headers(
    State(headers): State<Arc<Vec<(HeaderName, HeaderValue)>>>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    for (name, value) in headers.iter() {
        response.headers_mut().insert(name.clone(), value.clone());
    }
    response
}
