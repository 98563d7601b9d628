//! The full body of an order in search and get answers: customer, addresses, payments,
//! prepayments, source, dispatch and products, as the published description lists them, filled
//! with plausible data derived from the serial number (deterministic), so answers are as large as
//! a live shop's and clients that parse them pay the real price.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use crate::clock::{self, Stamp};
use crate::shop::{Order, Shop};

const FIRST_NAMES: [&str; 8] = [
    "Anna",
    "Piotr",
    "Maria",
    "Jan",
    "Katarzyna",
    "Tomasz",
    "Agnieszka",
    "Michał",
];
const LAST_NAMES: [&str; 8] = [
    "Nowak",
    "Kowalski",
    "Wiśniewska",
    "Wójcik",
    "Kamińska",
    "Lewandowski",
    "Zielińska",
    "Szymański",
];
const CITIES: [(&str, &str, &str); 6] = [
    ("Warszawa", "00-950", "mazowieckie"),
    ("Kraków", "30-001", "małopolskie"),
    ("Poznań", "60-101", "wielkopolskie"),
    ("Gdańsk", "80-001", "pomorskie"),
    ("Wrocław", "50-001", "dolnośląskie"),
    ("Łódź", "90-001", "łódzkie"),
];
const STREETS: [&str; 6] = [
    "ul. Marszałkowska",
    "ul. Długa",
    "ul. Piękna",
    "al. Jerozolimskie",
    "ul. Kwiatowa",
    "ul. Polna",
];
const PRODUCTS: [(&str, f64); 8] = [
    ("Kubek ceramiczny 350 ml", 29.99),
    ("Koszulka bawełniana męska", 59.0),
    ("Plecak miejski 20 l", 149.0),
    ("Lampka biurkowa LED", 89.9),
    ("Zestaw przypraw kuchennych", 34.5),
    ("Słuchawki bezprzewodowe", 219.0),
    ("Notes w kratkę A5", 12.99),
    ("Termos stalowy 0,75 l", 79.0),
];
const COURIERS: [(u32, &str); 4] = [
    (1, "InPost Paczkomaty 24/7"),
    (2, "DPD Polska"),
    (3, "Poczta Polska"),
    (4, "DHL Parcel"),
];
const PAYFORMS: [(u32, &str, &str); 3] = [
    (10, "Przelewy24", "prepaid"),
    (11, "BLIK", "prepaid"),
    (12, "Pobranie", "cash_on_delivery"),
];

fn phone(rng: &mut StdRng) -> String {
    format!(
        "+48 {} {:03} {:03}",
        rng.gen_range(500..900),
        rng.gen_range(0..1000),
        rng.gen_range(0..1000)
    )
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn date(stamp: Stamp) -> String {
    clock::format(stamp)
}

/// `clientResult` of an order.
pub fn client_result(o: &Order) -> Value {
    let mut rng = StdRng::seed_from_u64(o.serial ^ 0x5eed_c11e);
    let first = FIRST_NAMES[rng.gen_range(0..FIRST_NAMES.len())];
    let last = LAST_NAMES[rng.gen_range(0..LAST_NAMES.len())];
    let (city, zip, province) = CITIES[rng.gen_range(0..CITIES.len())];
    let street = format!(
        "{} {}/{}",
        STREETS[rng.gen_range(0..STREETS.len())],
        rng.gen_range(1..200),
        rng.gen_range(1..60)
    );
    let client_id = 1_000 + o.serial % 9_973;
    let login = format!("{}.{}{}", first, last, client_id).to_lowercase();
    let email = format!("{login}@example.com");
    let phone1 = phone(&mut rng);
    let firm = if rng.gen_bool(0.2) {
        format!("{last} i Wspólnicy sp. z o.o.")
    } else {
        String::new()
    };
    let nip = if firm.is_empty() {
        String::new()
    } else {
        format!("{:010}", rng.gen_range(1_000_000_000_u64..9_999_999_999))
    };
    let pickup = rng.gen_bool(0.4);
    let pickup_id = format!("WAW{:02}M", rng.gen_range(1..99));
    let account = json!({
        "clientId": client_id,
        "clientLogin": login,
        "clientEmail": email,
        "clientPhone1": phone1,
        "clientPhone2": "",
        "clientCodeExternal": format!("EXT-{client_id}"),
    });
    json!({
        "clientBillingAddress": {
            "clientFirstName": first,
            "clientLastName": last,
            "clientNip": nip,
            "clientFirm": firm,
            "clientAdditional": "",
            "clientStreet": street,
            "clientZipCode": zip,
            "clientCity": city,
            "clientCountryName": "Polska",
            "clientCountryId": "PL",
            "clientPhone1": phone1,
            "clientPhone2": "",
            "clientProvinceId": "PL-MZ",
            "clientProvince": province,
        },
        "clientDeliveryAddress": {
            "clientDeliveryAddressId": (client_id * 10).to_string(),
            "clientDeliveryAddressFirstName": first,
            "clientDeliveryAddressLastName": last,
            "clientDeliveryAddressFirm": firm,
            "clientDeliveryAddressStreet": street,
            "clientDeliveryAddressZipCode": zip,
            "clientDeliveryAddressCity": city,
            "clientDeliveryAddressCountry": "Polska",
            "clientDeliveryAddressCountryId": "PL",
            "clientDeliveryAddressPhone1": phone1,
            "clientDeliveryAddressPhone2": "",
            "clientDeliveryAddressProvinceId": "PL-MZ",
            "clientDeliveryAddressProvince": province,
            "clientDeliveryAddressType": if pickup { "pickupPoint" } else { "client" },
            "clientDeliveryAddressPickupPointInternalId": if pickup { rng.gen_range(1..5_000) } else { 0 },
        },
        "clientPickupPointAddress": {
            "pickupPointId": if pickup { pickup_id } else { String::new() },
            "city": city,
            "street": if pickup { format!("{} 12", STREETS[0]) } else { String::new() },
            "zipCode": zip,
            "description": if pickup { "Obok sklepu spożywczego, czynny 24/7" } else { "" },
            "latitude": 52.0 + rng.gen_range(0.0..2.0),
            "longitude": 19.0 + rng.gen_range(0.0..3.0),
            "name": if pickup { "Paczkomat" } else { "" },
        },
        "payerAddress": {
            "payerAddressId": (client_id * 10 + 1).to_string(),
            "payerAddressFirstName": first,
            "payerAddressLastName": last,
            "payerAddressFirm": firm,
            "payerAddressNip": nip,
            "payerAddressStreet": street,
            "payerAddressZipCode": zip,
            "payerAddressCity": city,
            "payerAddressCountry": "Polska",
            "payerAddressCountryId": "PL",
            "payerAddressPhone": phone1,
        },
        "clientAccount": account,
        "endClientAccount": account,
    })
}

/// `orderDetails` of an order: its status and dates as the shop holds them, the rest plausible.
pub fn order_details(shop: &Shop, o: &Order) -> Value {
    let mut rng = StdRng::seed_from_u64(o.serial ^ 0x0de7_a115);
    let (payform_id, payform, payment_type) = PAYFORMS[rng.gen_range(0..PAYFORMS.len())];
    let (courier_id, courier) = COURIERS[rng.gen_range(0..COURIERS.len())];
    let lines = rng.gen_range(1..=5);
    let mut products = Vec::with_capacity(lines);
    let mut products_cost = 0.0;
    let mut weight = 0;
    for line in 0..lines {
        let which = rng.gen_range(0..PRODUCTS.len());
        let (name, price) = PRODUCTS[which];
        let quantity = f64::from(rng.gen_range(1..4_u32));
        let net = round2(price / 1.23);
        let grams = rng.gen_range(100..2_000);
        products_cost += price * quantity;
        weight += grams * quantity as i64;
        products.push(json!({
            "productId": 100 + which as u64,
            "productName": name,
            "productCode": format!("SKU-{:05}", 100 + which),
            "versionName": "",
            "sizeId": "uniw",
            "sizePanelName": "uniwersalny",
            "productSizeCodeExternal": format!("590{:010}", 100 + which),
            "stockId": 1,
            "productSerialNumber": "",
            "productQuantity": quantity,
            "productWeight": grams,
            "productVat": 23.0,
            "productVatFree": "n",
            "productPanelPrice": price,
            "productPanelPriceNet": net,
            "productOrderPrice": price,
            "productOrderPriceNet": net,
            "productOrderPriceBaseCurrency": price,
            "productOrderPriceNetBaseCurrency": net,
            "orderAdditionalList": {},
            "remarksToProduct": "",
            "label": "",
            "orderSalesMode": "money",
            "bundleId": 0,
            "productSerialNumbers": "",
            "productOrderAdditional": "",
            "basketPosition": line + 1,
            "productPriceLog": "",
            "priceFormulaParameters": [],
        }));
    }
    let products_cost = round2(products_cost);
    let delivery_cost = [0.0, 9.99, 12.99, 16.5][rng.gen_range(0..4)];
    let paid = payment_type == "prepaid" && rng.gen_bool(0.8);
    let prepaids = if paid {
        json!([{
            "prepaidId": o.serial * 3,
            "paymentOrdinalNumber": 1,
            "paymentNumber": format!("{}-1", o.serial),
            "paymentAddDate": date(o.added + 60),
            "paymentModifiedDateByClient": date(o.added + 60),
            "paymentModifiedDateByShop": date(o.added + 120),
            "paymentStatus": "y",
            "paymentType": "payment",
            "payformId": payform_id,
            "payformName": payform,
            "payformAccount": "",
            "paymentValue": round2(products_cost + delivery_cost),
            "currencyId": "PLN",
            "voucherNumber": "",
            "giftCardNumber": "",
        }])
    } else {
        json!([])
    };
    let built_in = shop.built_in_of(o.status_id).map_or("new", |b| b.code);
    let sent = matches!(built_in, "finished" | "finished_ext");
    json!({
        "apiFlag": "none",
        "orderStatus": shop.code_of(o.status_id),
        "orderStatusId": o.status_id,
        "dropshippingOrderStatus": "",
        "orderConfirmation": "y",
        "orderAddDate": date(o.added),
        "orderDispatchDate": if sent { date(o.changed) } else { String::new() },
        "receivedDate": "",
        "orderPrepareTime": rng.gen_range(1..72).to_string(),
        "clientNoteToOrder": if rng.gen_bool(0.15) { "Proszę o kontakt telefoniczny przed dostawą." } else { "" },
        "clientNoteToCourier": if rng.gen_bool(0.1) { "Domofon nie działa, proszę dzwonić." } else { "" },
        "payments": {
            "orderPaymentType": payment_type,
            "orderPaymentDays": 0,
            "orderRebatePercent": 0.0,
            "orderCurrency": {
                "currencyId": "PLN",
                "orderCurrencyValue": 1.0,
                "orderCurrencyScale": 1,
                "billingCurrencyRate": 1.0,
                "orderProductsCost": products_cost,
                "orderDeliveryCost": delivery_cost,
                "orderPayformCost": 0.0,
                "orderInsuranceCost": 0.0,
            },
            "orderBaseCurrency": {
                "billingCurrency": "PLN",
                "orderProductsCost": products_cost,
                "orderDeliveryCost": delivery_cost,
                "orderDeliveryVat": 23.0,
                "orderPayformCost": 0.0,
                "orderPayformVat": 23.0,
                "orderInsuranceCost": 0.0,
                "orderInsuranceVat": 23.0,
            },
            "orderWorthCalculateType": "gross",
            "orderVatExists": "y",
        },
        "prepaids": prepaids,
        "orderSourceResults": {
            "orderSourceType": "shop",
            "shopId": 1,
            "auctionsServiceName": "",
            "orderSourceDetails": {
                "orderSourceType": "shop",
                "orderSourceName": "Sklep internetowy",
                "orderSourceTypeId": 1,
                "orderSourceId": 1,
                "entryProductIdBeforeOrder": 100 + o.serial % 8,
                "sourcePageUrl": "https://shop.example.com/pl/menu/nowosci",
                "orderExternalId": "",
                "fresh": "n",
                "fulfillment": "n",
            },
            "preorderSourcesDetails": [],
        },
        "dispatch": {
            "courierId": courier_id,
            "courierName": courier,
            "courierWebserviceOnly": false,
            "deliveryPackageId": if sent { format!("6{:019}", o.serial) } else { String::new() },
            "deliveryDate": "",
            "deliveryDateAdditional": "",
            "estimatedDeliveryDate": date(o.added + 3 * 86_400),
            "deliveryWeight": weight,
        },
        "productsResults": products,
        "productRemovedInStock": if sent { "y" } else { "n" },
        "stockId": 1,
        "clientRequestInvoice": if rng.gen_bool(0.2) { "y" } else { "n" },
        "clientDeliveryAddressId": (1_000 + o.serial % 9_973) * 10,
        "orderNote": o.note,
        "discountCode": { "campaignId": "", "discountCodeName": "", "discountCodeValue": "" },
        "discountCard": { "discountCardName": "" },
        "orderOperatorLogin": "magazyn1",
        "orderPackingPersonLogin": "",
        "purchaseDate": date(o.added),
        "orderChangeDate": date(o.changed),
    })
}
