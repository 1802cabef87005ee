//! The events contract (`contracts/events.svc`) end to end through the generated code: each
//! method publishes exactly what its `emits` lists, keyed as `@key` says (a uuid, an enum by
//! name, an absent optional field as no key), in the declared format (protobuf, or JSON for
//! `prices`); a topic carrying two events dispatches each to its own handler method.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::sync::{Arc, Mutex};
use svcc_codegen_tests::api::test::events::v1 as ev;
use svcc_runtime::client::ClientConfig;
use svcc_runtime::events::{Format, MemoryLog};
use svcc_runtime::{Context, Error, Server, Uuid, tokio};

use ev::Orders as _;

struct Shop;

impl ev::Orders for Shop {
    async fn place(
        &self,
        ctx: ev::orders::PlaceContext,
        quantity: i32,
        region: ev::Region,
    ) -> Result<ev::orders::PlaceResponse, ev::orders::PlaceError> {
        let order_id = Uuid::new_v4();
        ctx.emit_order_placed(&ev::OrderPlaced {
            order_id,
            quantity,
            region,
        })
        .await?;
        Ok(ev::orders::PlaceResponse { order_id })
    }

    async fn cancel(
        &self,
        ctx: ev::orders::CancelContext,
        order_id: Uuid,
        reason: Option<String>,
    ) -> Result<(), ev::orders::CancelError> {
        ctx.emit_order_cancelled(&ev::OrderCancelled {
            order_id,
            reason: reason.clone(),
        })
        .await?;
        ctx.emit_noted(&ev::Noted {
            author: None,
            text: format!("cancelled {order_id}"),
        })
        .await?;
        Ok(())
    }

    async fn reprice(
        &self,
        ctx: ev::orders::RepriceContext,
        region: ev::Region,
        sku: String,
        cents: i64,
    ) -> Result<(), ev::orders::RepriceError> {
        if sku == "gone" {
            return Err(ev::NoSuchSku { sku }.into());
        }
        // An event that breaks its own constraints (`sku` empty) is never published.
        ctx.emit_price_changed(&ev::PriceChanged { region, sku, cents })
            .await?;
        Ok(())
    }

    async fn count(
        &self,
        _ctx: Context,
    ) -> Result<ev::orders::CountResponse, ev::orders::CountError> {
        Ok(ev::orders::CountResponse { orders: 0 })
    }
}

/// Records what the handlers of `orders` and `prices` saw.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<String>>>);

impl ev::OrdersHandler for Seen {
    async fn order_placed(&self, _ctx: Context, e: ev::OrderPlaced) -> Result<(), Error> {
        self.0
            .lock()
            .unwrap()
            .push(format!("placed {} x{}", e.order_id, e.quantity));
        Ok(())
    }
    async fn order_cancelled(&self, _ctx: Context, e: ev::OrderCancelled) -> Result<(), Error> {
        self.0
            .lock()
            .unwrap()
            .push(format!("cancelled {} {:?}", e.order_id, e.reason));
        Ok(())
    }
}

impl ev::PricesHandler for Seen {
    async fn price_changed(&self, _ctx: Context, e: ev::PriceChanged) -> Result<(), Error> {
        self.0
            .lock()
            .unwrap()
            .push(format!("price {} {}", e.sku, e.cents));
        Ok(())
    }
}

#[tokio::test(crate = "svcc_runtime::tokio")]
async fn methods_publish_what_they_declare_keyed_and_encoded_as_declared() {
    let log = MemoryLog::new();
    let seen = Seen::default();
    log.subscribe(ev::OrdersHandler::into_subscription(seen.clone()));
    log.subscribe(ev::PricesHandler::into_subscription(seen.clone()));
    let server = Server::new()
        .events(Arc::new(log.clone()))
        .service(ev::OrdersServer::new(Shop).into_service());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let done = tokio::spawn(server.serve_until(listener, async {
        let _ = stopped.await;
    }));
    let client = ev::OrdersJsonRpcClient::new(ClientConfig::new(&base));

    let placed = client
        .place(Context::new().into(), 3, ev::Region::Eu)
        .await
        .unwrap()
        .order_id;
    client
        .cancel(Context::new().into(), placed, Some("late".into()))
        .await
        .unwrap();
    client
        .reprice(Context::new().into(), ev::Region::Us, "tea".into(), 250)
        .await
        .unwrap();
    // A declared error before the emit publishes nothing; an event that breaks its contract
    // is refused (an internal error), and nothing is published either.
    assert!(
        client
            .reprice(Context::new().into(), ev::Region::Us, "gone".into(), 1)
            .await
            .is_err()
    );
    let broken = client
        .reprice(Context::new().into(), ev::Region::Us, String::new(), 1)
        .await
        .unwrap_err();
    assert!(
        format!("{broken:?}").contains("breaks its contract"),
        "{broken:?}"
    );
    client.count(Context::new()).await.unwrap();

    let records = log.records();
    let summary: Vec<(String, Option<String>, String)> = records
        .iter()
        .map(|r| {
            (
                r.topic.to_string(),
                r.key.clone(),
                r.event_name().unwrap_or("").to_string(),
            )
        })
        .collect();
    let id = placed.to_string();
    assert_eq!(
        summary,
        [
            (
                "orders".into(),
                Some(id.clone()),
                "test.events.v1.OrderPlaced".into()
            ),
            (
                "orders".into(),
                Some(id.clone()),
                "test.events.v1.OrderCancelled".into()
            ),
            ("notes".into(), None, "test.events.v1.Noted".into()),
            (
                "prices".into(),
                Some("Us".into()),
                "test.events.v1.PriceChanged".into()
            ),
        ]
    );
    // `prices` is JSON (svcc's names), the others protobuf.
    let price = &records[3];
    assert_eq!(
        price.header("content-type"),
        Some(Format::Json.content_type())
    );
    let json: svcc_runtime::serde_json::Value =
        svcc_runtime::serde_json::from_slice(&price.payload).unwrap();
    assert_eq!(
        json,
        svcc_runtime::serde_json::json!({"region": "Us", "sku": "tea", "cents": 250})
    );
    assert_eq!(
        records[0].header("content-type"),
        Some(Format::Protobuf.content_type())
    );
    let back: ev::OrderPlaced = records[0].decode().unwrap();
    assert_eq!(
        (back.order_id, back.quantity, back.region),
        (placed, 3, ev::Region::Eu)
    );

    // One topic, two events: each reached its own handler method.
    for _ in 0..200 {
        if seen.0.lock().unwrap().len() >= 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let mut got = seen.0.lock().unwrap().clone();
    got.sort();
    assert_eq!(
        got,
        [
            format!("cancelled {placed} Some(\"late\")"),
            format!("placed {placed} x3"),
            "price tea 250".to_string(),
        ]
    );
    stop.send(()).unwrap();
    done.await.unwrap().unwrap();
}
