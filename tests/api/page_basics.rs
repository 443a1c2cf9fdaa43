//! What every browser visit meets: a favicon, a page (not JSON) where nothing is found, with a
//! reference a person can give support, and a notice when JavaScript is off.

use crate::helpers::{spawn_app, Backend};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browsers_get_pages_and_an_icon_where_api_clients_get_json() {
    let app = spawn_app(Backend::Embedded).await;
    let res = app
        .client
        .get(app.url("/no/such/page"))
        .header("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 404);
    assert!(res.headers()["content-type"]
        .to_str()
        .expect("type")
        .starts_with("text/html"));
    let request_id = res.headers()["x-request-id"]
        .to_str()
        .expect("id")
        .to_string();
    let page = res.text().await.expect("page");
    assert!(page.contains("There is no page here"), "{page}");
    assert!(
        page.contains(&request_id),
        "the reference is the request id"
    );

    let api = app.get("/no/such/page").await;
    assert_eq!(api.status, 404);
    assert_eq!(api.body["error"], "not_found");

    let icon = app
        .client
        .get(app.url("/favicon.ico"))
        .send()
        .await
        .expect("icon");
    assert_eq!(icon.status(), 200);
    assert_eq!(icon.headers()["content-type"], "image/svg+xml");
    assert!(icon.text().await.expect("svg").starts_with("<svg"));

    for path in ["/login", "/register", "/recover"] {
        let page = app
            .client
            .get(app.url(path))
            .send()
            .await
            .expect("page")
            .text()
            .await
            .expect("html");
        assert!(
            page.contains("<noscript>"),
            "{path} says when JavaScript is off"
        );
        assert!(page.contains(r#"rel="icon""#), "{path} names its icon");
    }
}
