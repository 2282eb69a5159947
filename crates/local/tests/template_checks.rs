//! What `cfn-lint` and `sam validate` cannot see in `template.yaml`, checked
//! by `make lint`: a setting or rule that names a route, and an alarm that
//! names a resource, name ones that exist. A misspelt path deploys fine and
//! then limits, exempts or watches nothing (the payment route's throttle
//! once named `/orders/{order_id}/pay`).

use std::collections::BTreeSet;
use std::path::Path;

use serde_yaml::{Mapping, Value};
use shop_local::template::{resource_path, Template};

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn document() -> Value {
    serde_yaml::from_str(&std::fs::read_to_string(root().join("template.yaml")).unwrap()).unwrap()
}

/// The template's resources, with `Fn::ForEach` loops written out as
/// CloudFormation's LanguageExtensions would.
fn resources() -> Mapping {
    let mut out = Mapping::new();
    for (id, resource) in document()["Resources"].as_mapping().unwrap() {
        let id = id.as_str().unwrap();
        if id.starts_with("Fn::ForEach::") {
            let parts = resource.as_sequence().unwrap();
            let (name, items, fragment) = (parts[0].as_str().unwrap(), parts[1].as_sequence().unwrap(), &parts[2]);
            let text = serde_yaml::to_string(fragment).unwrap();
            for item in items {
                let written = text.replace(&format!("${{{name}}}"), item.as_str().unwrap());
                let expanded: Value = serde_yaml::from_str(&written).unwrap();
                out.extend(expanded.as_mapping().unwrap().clone());
            }
        } else {
            out.insert(Value::from(id), resource.clone());
        }
    }
    out
}

fn api() -> Value {
    resources().values().find(|r| r["Type"] == "AWS::Serverless::Api").unwrap()["Properties"].clone()
}

/// Every value under `value` (depth first), with its key.
fn walk<'a>(value: &'a Value, key: &str, out: &mut Vec<(String, &'a Value)>) {
    out.push((key.to_owned(), value));
    match value {
        Value::Mapping(map) => map.iter().for_each(|(k, v)| walk(v, k.as_str().unwrap_or_default(), out)),
        Value::Sequence(items) => items.iter().for_each(|v| walk(v, key, out)),
        Value::Tagged(tagged) => walk(&tagged.value, key, out),
        _ => {}
    }
}

/// The text of `!Sub "..."` or a plain string.
fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Tagged(tagged) if tagged.tag == "!Sub" => tagged.value.as_str().map(str::to_owned),
        _ => None,
    }
}

#[test]
fn every_method_setting_names_a_route_of_the_api() {
    let template = Template::load(&root().join("template.yaml")).unwrap();
    let routes: BTreeSet<(String, String)> =
        template.routes().map(|(_, path, method, _)| (path.to_owned(), method.to_owned())).collect();
    let settings = api()["MethodSettings"].as_sequence().unwrap().clone();
    assert!(!settings.is_empty());
    for setting in settings {
        let path = resource_path(setting["ResourcePath"].as_str().unwrap());
        let method = setting["HttpMethod"].as_str().unwrap().to_owned();
        if path == "*" {
            assert_eq!(method, "*", "the stage default is /* *");
            continue;
        }
        assert!(
            routes.iter().any(|(p, m)| *p == path && (method == "*" || *m == method)),
            "MethodSettings {method} {path}: no such route (routes: {routes:?})"
        );
    }
    // And the local API applies them: checkout's own limit, everything else the stage's.
    let checkout = template.throttle_for("/cart/checkout", "POST").unwrap();
    let payment = template.throttle_for("/orders/{order_id}/payment", "POST").unwrap();
    let product = template.throttle_for("/product", "GET").unwrap();
    assert_eq!((checkout.rate, checkout.burst), (payment.rate, payment.burst));
    assert_eq!(
        (checkout.resource.as_str(), payment.resource.as_str()),
        ("/cart/checkout", "/orders/{order_id}/payment")
    );
    assert_ne!(checkout.rate, product.rate);
    assert_eq!(product.resource, "*");
}

#[test]
fn every_path_scoped_web_acl_rule_names_routes_that_exist() {
    let template = Template::load(&root().join("template.yaml")).unwrap();
    let stage = api()["StageName"].as_str().unwrap().to_owned();
    // Each route as a request path WAF sees on the stage: /Prod/product/x/reviews.
    let paths: Vec<(String, String)> = template
        .routes()
        .map(|(_, path, _, _)| {
            let concrete: Vec<String> =
                path.split('/').map(|s| if s.starts_with('{') { "x".to_owned() } else { s.to_owned() }).collect();
            (path.to_owned(), format!("/{stage}{}", concrete.join("/")))
        })
        .collect();
    let acl = resources().values().find(|r| r["Type"] == "AWS::WAFv2::WebACL").unwrap().clone();
    let mut nodes = Vec::new();
    walk(&acl, "", &mut nodes);
    let mut checked = 0;
    for (_, node) in nodes {
        let Some(statement) = node.get("ByteMatchStatement") else { continue };
        if statement["FieldToMatch"].get("UriPath").is_none() {
            continue;
        }
        let needle = statement["SearchString"].as_str().unwrap();
        let matches = |path: &str| match statement["PositionalConstraint"].as_str().unwrap() {
            "STARTS_WITH" => path.starts_with(needle),
            "CONTAINS" => path.contains(needle),
            "EXACTLY" => path == needle,
            "ENDS_WITH" => path.ends_with(needle),
            other => panic!("a constraint this check does not read: {other}"),
        };
        assert!(paths.iter().any(|(_, p)| matches(p)), "UriPath {needle:?} matches no route on stage {stage}");
        checked += 1;
    }
    assert!(checked > 0, "the review routes' exemption is path-scoped");
    // The cross-site-scripting exemption covers the review routes and nothing else.
    let exempt = |p: &str| p.starts_with(&format!("/{stage}/product/")) && p.contains("/reviews");
    for (route, path) in &paths {
        assert_eq!(exempt(path), route.contains("/reviews"), "{route}");
    }
}

#[test]
fn every_alarm_watches_a_resource_that_exists() {
    let resources = resources();
    let api = api();
    let api_name = text(&api["Name"]).unwrap();
    let stage = api["StageName"].as_str().unwrap().to_owned();
    let exists = |id: &str| resources.contains_key(Value::from(id)) || id.starts_with("AWS::");
    let mut checked = 0;
    for (id, resource) in &resources {
        if resource["Type"] != "AWS::CloudWatch::Alarm" {
            continue;
        }
        let mut nodes = Vec::new();
        walk(&resource["Properties"], "", &mut nodes);
        for (key, node) in nodes {
            if key != "Dimensions" {
                continue;
            }
            for dimension in node.as_sequence().into_iter().flatten() {
                let (name, value) = (dimension["Name"].as_str().unwrap(), &dimension["Value"]);
                let what = format!("{}: dimension {name}", id.as_str().unwrap());
                match name {
                    "ApiName" => assert_eq!(text(value).as_deref(), Some(api_name.as_str()), "{what}"),
                    "Stage" => assert_eq!(value.as_str(), Some(stage.as_str()), "{what}"),
                    _ => {
                        // `!Ref X`, `!GetAtt X.Attr`, `!Sub "${X}"`: X must be a resource.
                        let referenced = match value {
                            Value::Tagged(t) if t.tag == "!Sub" => {
                                let s = t.value.as_str().unwrap();
                                s.trim_start_matches("${").split(['}', '.']).next().unwrap().to_owned()
                            }
                            Value::Tagged(t) => t.value.as_str().unwrap().split('.').next().unwrap().to_owned(),
                            other => panic!("{what}: {other:?} names nothing the template makes"),
                        };
                        assert!(exists(&referenced), "{what} names {referenced}, which the template does not make");
                    }
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 50, "every function's alarms are written out ({checked} dimensions)");
}
