//! Reads what the local stack needs from `template.yaml`, the one source of
//! truth for routes, the table, queues, the user pool and event sources.

use serde_yaml::Value;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read the template: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot parse the template: {0}")]
    Yaml(#[from] serde_yaml::Error),
    #[error("template: {0}")]
    Invalid(String),
}

fn invalid(what: impl Into<String>) -> TemplateError {
    TemplateError::Invalid(what.into())
}

#[derive(Debug, Clone)]
pub struct Template {
    /// The DynamoDB table's logical id and CloudFormation properties.
    pub table: (String, Value),
    pub queues: Vec<QueueDef>,
    pub user_pool: UserPoolDef,
    pub functions: Vec<FunctionDef>,
    pub api_cors_headers: String,
    pub api_cors_methods: String,
    /// The stage's throttles (`MethodSettings`), parameters resolved.
    pub throttles: Vec<Throttle>,
    /// Every parameter's value: its default, or the override given.
    pub parameters: std::collections::HashMap<String, String>,
}

/// One `MethodSettings` entry that throttles: API Gateway keeps a token
/// bucket per method, holding `burst` and refilled at `rate` a second; the
/// `/*` `*` entry is every method's default, a named one overrides it.
#[derive(Debug, Clone, PartialEq)]
pub struct Throttle {
    /// A route's path (`/cart/checkout`), or `*` for every route.
    pub resource: String,
    /// `POST`, or `*` for every method.
    pub method: String,
    pub rate: f64,
    pub burst: f64,
}

impl Template {
    /// A parameter's value (default or override), parsed.
    pub fn parameter<T: std::str::FromStr>(&self, name: &str) -> Option<T> {
        self.parameters.get(name)?.parse().ok()
    }

    /// The throttle API Gateway applies to a route: its own setting, or the
    /// stage's default.
    pub fn throttle_for(&self, resource: &str, method: &str) -> Option<&Throttle> {
        let named = |t: &&Throttle| t.resource == resource && (t.method == method || t.method == "*");
        self.throttles.iter().find(named).or_else(|| self.throttles.iter().find(|t| t.resource == "*"))
    }
}

/// A `MethodSettings` `ResourcePath` as a route path: `~1` is `/` (JSON
/// pointer escaping), and `/*` is every resource.
pub fn resource_path(setting: &str) -> String {
    if setting == "/*" {
        "*".into()
    } else {
        format!("/{}", setting.replace("~1", "/").trim_start_matches('/'))
    }
}

#[derive(Debug, Clone)]
pub struct QueueDef {
    pub logical_id: String,
    pub visibility_timeout: Option<i64>,
    pub message_retention: Option<i64>,
    /// Logical id of the dead-letter queue and `maxReceiveCount`.
    pub redrive: Option<(String, i64)>,
}

#[derive(Debug, Clone)]
pub struct UserPoolDef {
    pub password_min_length: i64,
    pub explicit_auth_flows: Vec<String>,
    pub groups: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct FunctionDef {
    pub logical_id: String,
    /// The function's `Handler`: the endpoint or worker it runs.
    pub handler: String,
    pub events: Vec<EventDef>,
    /// Environment variables set to `!Ref <resource>`: variable to logical id.
    pub env_refs: Vec<(String, String)>,
    /// What the function's execution role allows.
    pub grants: Vec<Grant>,
}

/// One `Allow` statement of a function's policy (or a SAM policy template's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// Actions, possibly ending in `*`.
    pub actions: Vec<String>,
    /// Resources as logical ids, with a suffix for sub-resources:
    /// `ShopTable`, `ShopTable/index/orders-index`, `ShopTable/index/*`.
    pub resources: Vec<String>,
}

impl Grant {
    fn allows_action(&self, action: &str) -> bool {
        self.actions.iter().any(|granted| match granted.strip_suffix('*') {
            Some(prefix) => action.starts_with(prefix),
            None => granted == action,
        })
    }
}

#[derive(Debug, Clone)]
pub enum EventDef {
    Api {
        path: String,
        method: String,
        authorized: bool,
    },
    Sqs {
        queue: String,
        batch_size: usize,
        report_batch_item_failures: bool,
    },
    Stream(StreamSource),
    /// An EventBridge schedule, `rate(...)` only.
    Schedule {
        every_secs: u64,
    },
}

/// Seconds in `rate(5 minutes)`, `rate(1 hour)`, `rate(30 seconds)`.
fn rate_secs(expression: &str) -> Option<u64> {
    let inner = expression.strip_prefix("rate(")?.strip_suffix(')')?;
    let (value, unit) = inner.trim().split_once(' ')?;
    let value: u64 = value.parse().ok()?;
    let unit_secs = match unit.trim_end_matches('s') {
        "second" => 1,
        "minute" => 60,
        "hour" => 3600,
        "day" => 86_400,
        _ => return None,
    };
    Some(value * unit_secs)
}

#[derive(Debug, Clone)]
pub struct StreamSource {
    pub batch_size: usize,
    pub trim_horizon: bool,
    pub report_batch_item_failures: bool,
    pub maximum_retry_attempts: Option<i64>,
    /// Records older than this go to the on-failure destination unprocessed (-1: never).
    pub maximum_record_age_secs: Option<i64>,
    pub bisect_on_error: bool,
    /// Logical id of the on-failure SQS destination.
    pub on_failure_queue: Option<String>,
    /// `FilterCriteria` patterns (Lambda event filtering); empty: every record.
    pub filters: Vec<serde_json::Value>,
}

impl StreamSource {
    /// Whether Lambda would deliver `record` (an event record as JSON): it
    /// matches one of the filters, or there are none.
    pub fn delivers(&self, record: &serde_json::Value) -> bool {
        self.filters.is_empty() || self.filters.iter().any(|f| pattern_matches(f, record))
    }
}

/// Lambda's filter pattern language, the part this template uses: nested
/// objects whose leaves are lists of exact values or `{"prefix": ...}`.
fn pattern_matches(pattern: &serde_json::Value, value: &serde_json::Value) -> bool {
    use serde_json::Value as J;
    match pattern {
        J::Object(fields) => fields.iter().all(|(k, p)| value.get(k).is_some_and(|v| pattern_matches(p, v))),
        J::Array(alternatives) => alternatives.iter().any(|alternative| match alternative {
            J::Object(rule) => match (rule.get("prefix"), value) {
                (Some(J::String(prefix)), J::String(text)) => text.starts_with(prefix.as_str()),
                _ => false,
            },
            exact => exact == value,
        }),
        _ => false,
    }
}

fn get<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(value, |v, key| v.get(*key))
}

fn str_at(value: &Value, path: &[&str]) -> Option<String> {
    get(value, path).and_then(Value::as_str).map(str::to_owned)
}

fn int_at(value: &Value, path: &[&str]) -> Option<i64> {
    get(value, path).and_then(|v| v.as_i64().or_else(|| v.as_str().and_then(|s| s.parse().ok())))
}

/// The logical id behind `!Ref X`, `!GetAtt X.Attr`, or their long forms.
fn referenced_id(value: &Value) -> Option<String> {
    match value {
        Value::Tagged(tagged) => {
            let inner = tagged.value.as_str()?;
            match tagged.tag.to_string().as_str() {
                "!Ref" => Some(inner.to_owned()),
                "!GetAtt" => inner.split('.').next().map(str::to_owned),
                _ => None,
            }
        }
        Value::Mapping(_) => value.get("Ref").and_then(Value::as_str).map(str::to_owned).or_else(|| {
            let att = value.get("Fn::GetAtt")?;
            att.as_sequence()
                .and_then(|s| s.first())
                .and_then(Value::as_str)
                .map(str::to_owned)
                .or_else(|| att.as_str().and_then(|s| s.split('.').next()).map(str::to_owned))
        }),
        _ => None,
    }
}

/// A policy resource as a logical id plus suffix: `!GetAtt T.Arn` is `T`,
/// `!Sub "${T.Arn}/index/i"` is `T/index/i`, `!GetAtt Q.QueueName` is `Q`.
fn resource_name(value: &Value) -> Option<String> {
    if let Value::Tagged(tagged) = value {
        if tagged.tag == "!Sub" {
            let text = tagged.value.as_str()?;
            let rest = text.strip_prefix("${")?;
            let (reference, suffix) = rest.split_once('}')?;
            return Some(format!("{}{suffix}", reference.split('.').next()?));
        }
    }
    referenced_id(value)
}

/// The template's conditions, as far as the local stack reads them
/// (`!Equals` of a parameter and a value, `!Not`): by name, whether each
/// holds for the parameters it runs with.
fn conditions(doc: &Value, parameters: &std::collections::HashMap<String, String>) -> Conditions {
    fn operand(value: &Value, parameters: &std::collections::HashMap<String, String>) -> Option<String> {
        match value {
            Value::String(text) => Some(text.clone()),
            Value::Tagged(tagged) if tagged.tag == "!Ref" => parameters.get(tagged.value.as_str()?).cloned(),
            _ => None,
        }
    }
    fn holds(value: &Value, parameters: &std::collections::HashMap<String, String>) -> Option<bool> {
        let Value::Tagged(tagged) = value else { return None };
        let args = tagged.value.as_sequence()?;
        match tagged.tag.to_string().as_str() {
            "!Equals" => Some(operand(args.first()?, parameters)? == operand(args.get(1)?, parameters)?),
            "!Not" => holds(args.first()?, parameters).map(|h| !h),
            _ => None,
        }
    }
    doc.get("Conditions")
        .and_then(Value::as_mapping)
        .into_iter()
        .flatten()
        .filter_map(|(name, condition)| Some((name.as_str()?.to_owned(), holds(condition, parameters)?)))
        .collect()
}

type Conditions = std::collections::HashMap<String, bool>;

/// A policy statement as the template's conditions leave it: an
/// `!If [condition, then, else]` picks its branch, `!Ref AWS::NoValue` none.
fn resolved<'a>(statement: &'a Value, conditions: &Conditions) -> Option<&'a Value> {
    match statement {
        Value::Tagged(tagged) if tagged.tag == "!If" => {
            let args = tagged.value.as_sequence()?;
            let branch = if *conditions.get(args.first()?.as_str()?)? { args.get(1)? } else { args.get(2)? };
            resolved(branch, conditions)
        }
        Value::Tagged(tagged) if tagged.tag == "!Ref" && tagged.value.as_str() == Some("AWS::NoValue") => None,
        other => Some(other),
    }
}

fn policy_grants(id: &str, props: &Value, conditions: &Conditions) -> Result<Vec<Grant>, TemplateError> {
    let strings = |value: Option<&Value>, read: &dyn Fn(&Value) -> Option<String>| -> Vec<String> {
        match value {
            Some(Value::Sequence(items)) => items.iter().filter_map(read).collect(),
            Some(single) => read(single).into_iter().collect(),
            None => Vec::new(),
        }
    };
    let mut grants = Vec::new();
    for policy in get(props, &["Policies"]).and_then(Value::as_sequence).into_iter().flatten() {
        // A function's inline statements, or an IAM role's named policy.
        let statements = policy.get("Statement").or_else(|| get(policy, &["PolicyDocument", "Statement"]));
        if let Some(statements) = statements.and_then(Value::as_sequence) {
            for statement in statements.iter().filter_map(|s| resolved(s, conditions)) {
                if str_at(statement, &["Effect"]).as_deref() != Some("Allow") {
                    continue;
                }
                grants.push(Grant {
                    actions: strings(statement.get("Action"), &|v| v.as_str().map(str::to_owned)),
                    resources: strings(statement.get("Resource"), &resource_name),
                });
            }
        } else if let Some(template) = policy.get("SQSSendMessagePolicy") {
            // SAM's policy template: sqs:SendMessage* on the named queue.
            grants.push(Grant {
                actions: vec!["sqs:SendMessage*".into()],
                resources: strings(template.get("QueueName"), &resource_name),
            });
        } else {
            return Err(invalid(format!("{id}: a policy the local stack cannot read: {policy:?}")));
        }
    }
    Ok(grants)
}

/// `'GET,POST'` (API Gateway's quoted literal) to `GET,POST`.
fn unquote(value: &str) -> String {
    value.trim_matches('\'').to_owned()
}

impl Template {
    pub fn load(path: &Path) -> Result<Self, TemplateError> {
        Self::parse(&std::fs::read_to_string(path)?)
    }

    /// The template with some parameters set, as `sam deploy
    /// --parameter-overrides` sets them (the others keep their defaults).
    pub fn load_with(path: &Path, overrides: &[(String, String)]) -> Result<Self, TemplateError> {
        Self::parse_with(&std::fs::read_to_string(path)?, overrides)
    }

    pub fn parse(text: &str) -> Result<Self, TemplateError> {
        Self::parse_with(text, &[])
    }

    pub fn parse_with(text: &str, overrides: &[(String, String)]) -> Result<Self, TemplateError> {
        let doc: Value = serde_yaml::from_str(text)?;
        let mut parameters: std::collections::HashMap<String, String> = doc
            .get("Parameters")
            .and_then(Value::as_mapping)
            .into_iter()
            .flatten()
            .filter_map(|(name, def)| {
                let default = match def.get("Default")? {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    _ => return None,
                };
                Some((name.as_str()?.to_owned(), default))
            })
            .collect();
        parameters.extend(overrides.iter().cloned());
        let conditions = conditions(&doc, &parameters);
        let mut throttles = Vec::new();
        let resources = doc.get("Resources").and_then(Value::as_mapping).ok_or_else(|| invalid("no Resources"))?;
        let mut table = None;
        let mut queues = Vec::new();
        let mut functions = Vec::new();
        let mut user_pool = UserPoolDef { password_min_length: 8, explicit_auth_flows: Vec::new(), groups: Vec::new() };
        let mut cors = (String::from("Content-Type,Authorization"), String::from("GET,POST,PUT,OPTIONS"));
        // The IAM roles a function may name instead of its own policies.
        let mut roles = std::collections::HashMap::new();
        for (id, resource) in resources {
            if str_at(resource, &["Type"]).as_deref() == Some("AWS::IAM::Role") {
                let id = id.as_str().unwrap_or_default().to_owned();
                let grants = policy_grants(&id, resource.get("Properties").unwrap_or(&Value::Null), &conditions)?;
                roles.insert(id, grants);
            }
        }
        for (id, resource) in resources {
            let id = id.as_str().ok_or_else(|| invalid("resource id not a string"))?.to_owned();
            let kind = str_at(resource, &["Type"]).unwrap_or_default();
            let props = resource.get("Properties").cloned().unwrap_or(Value::Null);
            match kind.as_str() {
                "AWS::DynamoDB::Table" if table.is_some() => {
                    return Err(invalid("the shop uses one table; found two"));
                }
                "AWS::DynamoDB::Table" => table = Some((id.clone(), props)),
                "AWS::SQS::Queue" => queues.push(QueueDef {
                    logical_id: id,
                    visibility_timeout: int_at(&props, &["VisibilityTimeout"]),
                    message_retention: int_at(&props, &["MessageRetentionPeriod"]),
                    redrive: match get(&props, &["RedrivePolicy"]) {
                        Some(policy) => Some((
                            policy
                                .get("deadLetterTargetArn")
                                .and_then(referenced_id)
                                .ok_or_else(|| invalid("RedrivePolicy without deadLetterTargetArn"))?,
                            int_at(policy, &["maxReceiveCount"]).unwrap_or(5),
                        )),
                        None => None,
                    },
                }),
                "AWS::Cognito::UserPool" => {
                    if let Some(len) = int_at(&props, &["Policies", "PasswordPolicy", "MinimumLength"]) {
                        user_pool.password_min_length = len;
                    }
                }
                "AWS::Cognito::UserPoolClient" => {
                    user_pool.explicit_auth_flows = get(&props, &["ExplicitAuthFlows"])
                        .and_then(Value::as_sequence)
                        .map(|s| s.iter().filter_map(Value::as_str).map(str::to_owned).collect())
                        .unwrap_or_default();
                }
                "AWS::Cognito::UserPoolGroup" => {
                    user_pool.groups.push(str_at(&props, &["GroupName"]).ok_or_else(|| invalid("group without name"))?);
                }
                "AWS::Serverless::Api" => {
                    if let Some(h) = str_at(&props, &["Cors", "AllowHeaders"]) {
                        cors.0 = unquote(&h);
                    }
                    if let Some(m) = str_at(&props, &["Cors", "AllowMethods"]) {
                        cors.1 = unquote(&m);
                    }
                    for setting in get(&props, &["MethodSettings"]).and_then(Value::as_sequence).into_iter().flatten() {
                        let number = |key: &str| -> Option<f64> {
                            match setting.get(key)? {
                                Value::Number(n) => n.as_f64(),
                                reference => parameters.get(&referenced_id(reference)?)?.parse().ok(),
                            }
                        };
                        let (Some(rate), Some(burst)) = (number("ThrottlingRateLimit"), number("ThrottlingBurstLimit"))
                        else {
                            continue;
                        };
                        throttles.push(Throttle {
                            resource: resource_path(&str_at(setting, &["ResourcePath"]).unwrap_or_default()),
                            method: str_at(setting, &["HttpMethod"]).unwrap_or_else(|| "*".into()),
                            rate,
                            burst,
                        });
                    }
                }
                "AWS::Serverless::Function" => functions.push(parse_function(id, &props, &roles, &conditions)?),
                _ => {}
            }
        }
        Ok(Self {
            table: table.ok_or_else(|| invalid("no AWS::DynamoDB::Table"))?,
            queues,
            user_pool,
            functions,
            api_cors_headers: cors.0,
            api_cors_methods: cors.1,
            throttles,
            parameters,
        })
    }

    /// The resource a function's environment variable refers to, in any function.
    pub fn env_ref(&self, variable: &str) -> Option<&str> {
        self.functions.iter().flat_map(|f| f.env_refs.iter()).find(|(k, _)| k == variable).map(|(_, v)| v.as_str())
    }

    /// What `used` (IAM permissions by function binary, as the functions'
    /// calls needed them) has that the function's policy does not allow.
    pub fn missing_permissions<'a>(
        &self,
        used: impl IntoIterator<Item = (&'a str, &'a crate::permissions::Permission)>,
    ) -> Vec<String> {
        let table = self.table.0.as_str();
        let mut missing = Vec::new();
        for (binary, permission) in used {
            let Some(function) = self.functions.iter().find(|f| f.handler == binary) else {
                missing.push(format!("{binary}: not a function of the template"));
                continue;
            };
            let resource_fits = |resource: &str| match (&permission.index, permission.action.split(':').next()) {
                (_, Some("sqs")) => self.queues.iter().any(|q| q.logical_id == resource),
                (_, Some("cognito-idp")) => resource == "UserPool",
                (Some(index), _) => {
                    resource == format!("{table}/index/{index}") || resource == format!("{table}/index/*")
                }
                (None, _) => resource == table,
            };
            let allowed = function
                .grants
                .iter()
                .any(|g| g.allows_action(&permission.action) && g.resources.iter().any(|r| resource_fits(r)));
            if !allowed {
                missing.push(format!("{} ({binary}) needs {permission}", function.logical_id));
            }
        }
        missing
    }

    pub fn routes(&self) -> impl Iterator<Item = (&FunctionDef, &str, &str, bool)> {
        self.functions.iter().flat_map(|f| {
            f.events.iter().filter_map(move |e| match e {
                EventDef::Api { path, method, authorized } => Some((f, path.as_str(), method.as_str(), *authorized)),
                _ => None,
            })
        })
    }
}

fn parse_function(
    id: String,
    props: &Value,
    roles: &std::collections::HashMap<String, Vec<Grant>>,
    conditions: &Conditions,
) -> Result<FunctionDef, TemplateError> {
    let handler = str_at(props, &["Handler"]).ok_or_else(|| invalid(format!("{id}: no Properties.Handler")))?;
    let mut events = Vec::new();
    if let Some(map) = get(props, &["Events"]).and_then(Value::as_mapping) {
        for (name, event) in map {
            let kind = str_at(event, &["Type"]).unwrap_or_default();
            let ep = event.get("Properties").cloned().unwrap_or(Value::Null);
            let reports = get(&ep, &["FunctionResponseTypes"])
                .and_then(Value::as_sequence)
                .is_some_and(|s| s.iter().any(|v| v.as_str() == Some("ReportBatchItemFailures")));
            let batch_size = |default: i64| int_at(&ep, &["BatchSize"]).unwrap_or(default).max(1) as usize;
            events.push(match kind.as_str() {
                "Api" => EventDef::Api {
                    path: str_at(&ep, &["Path"]).ok_or_else(|| invalid(format!("{id}: Api event without Path")))?,
                    method: str_at(&ep, &["Method"]).unwrap_or_default().to_ascii_uppercase(),
                    authorized: str_at(&ep, &["Auth", "Authorizer"]).is_some_and(|a| a != "NONE"),
                },
                "SQS" => EventDef::Sqs {
                    queue: ep
                        .get("Queue")
                        .and_then(referenced_id)
                        .ok_or_else(|| invalid(format!("{id}: SQS event without Queue")))?,
                    batch_size: batch_size(10),
                    report_batch_item_failures: reports,
                },
                "DynamoDB" => EventDef::Stream(StreamSource {
                    batch_size: batch_size(100),
                    trim_horizon: str_at(&ep, &["StartingPosition"]).as_deref() == Some("TRIM_HORIZON"),
                    report_batch_item_failures: reports,
                    maximum_retry_attempts: int_at(&ep, &["MaximumRetryAttempts"]),
                    maximum_record_age_secs: int_at(&ep, &["MaximumRecordAgeInSeconds"]).filter(|s| *s >= 0),
                    bisect_on_error: get(&ep, &["BisectBatchOnFunctionError"])
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                    on_failure_queue: get(&ep, &["DestinationConfig", "OnFailure", "Destination"])
                        .and_then(referenced_id),
                    filters: get(&ep, &["FilterCriteria", "Filters"])
                        .and_then(Value::as_sequence)
                        .into_iter()
                        .flatten()
                        .map(|f| {
                            let text = str_at(f, &["Pattern"]).unwrap_or_default();
                            serde_json::from_str(&text).map_err(|e| invalid(format!("{id}: filter pattern: {e}")))
                        })
                        .collect::<Result<_, _>>()?,
                }),
                "Schedule" => EventDef::Schedule {
                    every_secs: str_at(&ep, &["Schedule"])
                        .as_deref()
                        .and_then(rate_secs)
                        .ok_or_else(|| invalid(format!("{id}: only rate(...) schedules run locally")))?,
                },
                other => return Err(invalid(format!("{id}: event {name:?} of type {other} is not run locally"))),
            });
        }
    }
    let env_refs = get(props, &["Environment", "Variables"])
        .and_then(Value::as_mapping)
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), referenced_id(v)?)))
        .collect();
    let grants = match props.get("Role").and_then(referenced_id) {
        Some(role) => roles.get(&role).cloned().ok_or_else(|| invalid(format!("{id}: role {role} not found")))?,
        None => policy_grants(&id, props, conditions)?,
    };
    Ok(FunctionDef { logical_id: id, handler, events, env_refs, grants })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every (path, method, token required) the OpenAPI document declares.
    fn spec_routes(spec: &Value) -> std::collections::BTreeSet<(String, String, bool)> {
        let mut routes = std::collections::BTreeSet::new();
        for (path, item) in spec["paths"].as_mapping().expect("paths") {
            for (method, op) in item.as_mapping().expect("path item") {
                let method = method.as_str().unwrap_or_default();
                if !["get", "put", "post", "delete", "patch"].contains(&method) {
                    continue;
                }
                // Optional auth lists `{}` among its alternatives.
                let required = op.get("security").and_then(Value::as_sequence).is_some_and(|alternatives| {
                    alternatives.iter().all(|a| a.as_mapping().is_some_and(|m| !m.is_empty()))
                });
                routes.insert((path.as_str().unwrap_or_default().to_owned(), method.to_ascii_uppercase(), required));
            }
        }
        routes
    }

    #[test]
    fn the_openapi_document_and_the_template_declare_the_same_routes() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let template = Template::load(&root.join("template.yaml")).unwrap();
        let declared: std::collections::BTreeSet<(String, String, bool)> = template
            .routes()
            .map(|(_, path, method, authorized)| (path.to_owned(), method.to_owned(), authorized))
            .collect();
        let spec: Value = serde_yaml::from_str(&std::fs::read_to_string(root.join("openapi.yaml")).unwrap()).unwrap();
        let documented = spec_routes(&spec);
        let undocumented: Vec<_> = declared.difference(&documented).collect();
        let unrouted: Vec<_> = documented.difference(&declared).collect();
        assert!(
            undocumented.is_empty() && unrouted.is_empty(),
            "template routes missing from openapi.yaml (path, method, token required): {undocumented:?}; \
             openapi.yaml operations the template does not route: {unrouted:?}"
        );
    }

    /// An endpoint is wired in five places; this names the places that
    /// disagree. Each template function runs one handler of the shop; each
    /// route of an endpoint's function is the OpenAPI operation named after
    /// that handler (`list-reviews`: `listReviews`); `events/` holds one
    /// event per function, the endpoints' on one of their function's routes.
    /// (The binaries are two, checked above; the fuzz seeds are written from
    /// `events/`.)
    #[test]
    fn every_endpoint_is_wired_the_same_in_the_table_the_template_the_contract_and_events() {
        use std::collections::BTreeSet;
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let template = Template::load(&root.join("template.yaml")).unwrap();
        let spec: Value = serde_yaml::from_str(&std::fs::read_to_string(root.join("openapi.yaml")).unwrap()).unwrap();
        let camel = |handler: &str| {
            let mut words = handler.split('-');
            let first = words.next().unwrap_or_default().to_owned();
            words.fold(first, |mut id, word| {
                let mut chars = word.chars();
                id.extend(chars.next().map(|c| c.to_ascii_uppercase()));
                id.push_str(chars.as_str());
                id
            })
        };
        let mut wrong = Vec::new();
        let endpoints: BTreeSet<&str> = shop::inbound::http::Endpoint::ALL.iter().map(|e| e.handler_name()).collect();
        for (function, path, method, _) in template.routes() {
            if !endpoints.contains(function.handler.as_str()) {
                wrong.push(format!("{method} {path} is routed to {}, which is no endpoint", function.handler));
            }
            let operation = spec["paths"][path][method.to_ascii_lowercase().as_str()]["operationId"].as_str();
            if operation != Some(camel(&function.handler).as_str()) {
                wrong.push(format!(
                    "{method} {path}: openapi.yaml's operationId {operation:?}, handler {}",
                    function.handler
                ));
            }
        }
        let events: BTreeSet<String> = std::fs::read_dir(root.join("events"))
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".json").map(str::to_owned))
            .collect();
        let handlers: BTreeSet<String> = template.functions.iter().map(|f| f.handler.clone()).collect();
        wrong.extend(handlers.difference(&events).map(|h| format!("events/{h}.json is missing")));
        wrong.extend(events.difference(&handlers).map(|e| format!("events/{e}.json names no function's handler")));
        for function in template.functions.iter().filter(|f| endpoints.contains(f.handler.as_str())) {
            let Ok(text) = std::fs::read_to_string(root.join(format!("events/{}.json", function.handler))) else {
                continue;
            };
            let event: serde_json::Value = serde_json::from_str(&text).unwrap();
            let (resource, method) = (event["resource"].as_str(), event["httpMethod"].as_str());
            let on_a_route = template
                .routes()
                .any(|(f, p, m, _)| f.handler == function.handler && Some(p) == resource && Some(m) == method);
            if !on_a_route {
                wrong.push(format!(
                    "events/{}.json ({method:?} {resource:?}) is on none of its routes",
                    function.handler
                ));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    /// Conditional statements follow the parameters: with Stripe, the
    /// functions that call it may read its secret; with the sandbox, none.
    #[test]
    fn a_conditional_grant_follows_the_parameters() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let reads_secret = |provider: &str, handler: &str| {
            let overrides = [("PaymentProvider".to_owned(), provider.to_owned())];
            let template = Template::load_with(&root.join("template.yaml"), &overrides).unwrap();
            let function = template.functions.iter().find(|f| f.handler == handler).unwrap();
            function.grants.iter().any(|g| g.actions.iter().any(|a| a == "secretsmanager:GetSecretValue"))
        };
        for handler in ["pay-order", "start-payment", "stripe-webhook", "cancel-order", "refund-order", "order-expiry"]
        {
            assert!(reads_secret("stripe", handler), "{handler}");
            assert!(!reads_secret("sandbox", handler), "{handler}");
        }
        assert!(!reads_secret("stripe", "get-cart"), "only the functions that call Stripe");
    }

    #[test]
    fn stream_filters_deliver_cart_lines_only() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml");
        let template = Template::load(&path).unwrap();
        let source = template
            .functions
            .iter()
            .flat_map(|f| &f.events)
            .find_map(|e| match e {
                EventDef::Stream(s) => Some(s.clone()),
                _ => None,
            })
            .unwrap();
        let record = |pk: &str, sk: &str| serde_json::json!({ "eventName": "MODIFY", "dynamodb": { "Keys": { "pk": { "S": pk }, "sk": { "S": sk } } } });
        assert!(source.delivers(&record("cart#a", "product#p1")));
        assert!(source.delivers(&record("user#u", "product#p1")));
        for (pk, sk) in [("product#p1", "incart#cart#a"), ("product#p1", "totalquantity"), ("user#u", "order#1")] {
            assert!(!source.delivers(&record(pk, sk)), "{pk} {sk}");
        }
    }

    #[test]
    fn reads_the_projects_template() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml");
        let template = Template::load(&path).unwrap();
        assert_eq!(template.table.0, "ShopTable");
        let routes: Vec<_> = template.routes().map(|(f, p, m, a)| (f.handler.as_str(), p, m, a)).collect();
        assert!(routes.contains(&("get-cart", "/cart", "GET", false)));
        assert!(routes.contains(&("migrate-cart", "/cart/migrate", "POST", true)));
        assert!(routes.contains(&("get-cart-total", "/cart/{product_id}/total", "GET", true)));
        let cleanup = template.queues.iter().find(|q| q.logical_id == "CartCleanupQueue").unwrap();
        assert_eq!(cleanup.redrive, Some(("CartCleanupDeadLetterQueue".into(), 5)));
        assert_eq!(template.env_ref("CLEANUP_QUEUE_URL"), Some("CartCleanupQueue"));
        assert!(template.user_pool.groups.contains(&"admin".to_owned()));
        let totals = template.functions.iter().find(|f| f.handler == "cart-totals").unwrap();
        match &totals.events[0] {
            EventDef::Stream(s) => {
                assert!(s.report_batch_item_failures && s.trim_horizon);
                assert_eq!(s.on_failure_queue.as_deref(), Some("CartTotalsFailureQueue"));
            }
            other => panic!("unexpected {other:?}"),
        }
        let expiry = template.functions.iter().find(|f| f.handler == "order-expiry").unwrap();
        assert!(matches!(expiry.events[0], EventDef::Schedule { every_secs: 60 }));
    }

    /// A mistyped `Handler` would fail at a cold start on AWS; here it fails
    /// in CI. And `sam build` builds each binary once only while the Metadata
    /// of every function it serves are the same.
    #[test]
    fn every_function_runs_a_handler_of_the_shop_from_its_kinds_binary() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let template = Template::load(&root.join("template.yaml")).unwrap();
        let mut handlers: Vec<&str> = template.functions.iter().map(|f| f.handler.as_str()).collect();
        for function in &template.functions {
            assert!(crate::functions::Handler::named(&function.handler).is_ok(), "{}", function.logical_id);
        }
        handlers.sort();
        let mut served: Vec<&str> = shop::inbound::http::Endpoint::ALL
            .iter()
            .map(|e| e.handler_name())
            .chain(shop::inbound::workers::Worker::ALL.iter().map(|w| w.handler_name()))
            .collect();
        served.sort();
        assert_eq!(handlers, served, "each endpoint and worker runs in exactly one function");
        // The functions' fallback when INDEX_PARTITIONS is unset is the template's default.
        assert_eq!(
            template.parameter::<u32>("IndexPartitions"),
            Some(shop::outbound::dynamodb::IndexPartitions::DEFAULT.count())
        );

        let doc: Value = serde_yaml::from_str(&std::fs::read_to_string(root.join("template.yaml")).unwrap()).unwrap();
        let functions: Vec<&Value> = doc["Resources"]
            .as_mapping()
            .unwrap()
            .values()
            .filter(|r| r.get("Type").and_then(Value::as_str) == Some("AWS::Serverless::Function"))
            .collect();
        assert_eq!(functions.len(), handlers.len());
        let manifest = std::fs::read_to_string(root.join("functions/Cargo.toml")).unwrap();
        for (binary, is_worker) in [("shop-endpoint", false), ("shop-worker", true)] {
            assert!(manifest.contains(&format!("name = \"{binary}\"")), "{binary} is a binary of functions/");
            let kind: Vec<&&Value> = functions
                .iter()
                .filter(|f| {
                    let handler = f["Properties"]["Handler"].as_str().unwrap_or_default();
                    shop::inbound::workers::Worker::from_handler_name(handler).is_some() == is_worker
                })
                .collect();
            let metadata = &kind[0]["Metadata"];
            assert!(kind.iter().all(|f| f["Metadata"] == *metadata), "every {binary} function's Metadata the same");
            assert_eq!(metadata["BuildProperties"]["Binary"].as_str(), Some(binary));
        }
    }

    #[test]
    fn policies_are_read_and_checked_against_what_calls_need() {
        use crate::permissions::Permission;
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml");
        let template = Template::load(&path).unwrap();
        let need =
            |action: &str, index: Option<&str>| Permission { action: action.into(), index: index.map(Into::into) };
        let (query, on_catalog) = (need("dynamodb:Query", None), need("dynamodb:Query", Some("catalog-index")));
        let send = need("sqs:SendMessage", None);
        let scan = need("dynamodb:Scan", None);
        // Allowed: an index query on its index, a queue send by SAM's template,
        // what a worker's own role grants.
        let (delete, put) = (need("dynamodb:DeleteItem", None), need("dynamodb:PutItem", None));
        let allowed = [("list-products", &on_catalog), ("migrate-cart", &send), ("cart-cleanup", &delete)];
        assert!(template.missing_permissions(allowed).is_empty());
        assert!(template.missing_permissions([("cart-totals", &put), ("cart-totals", &send)]).is_empty());
        assert_eq!(template.missing_permissions([("cart-totals", &delete)]).len(), 1, "the role grants no delete");
        // Not allowed: the table instead of the index, an action never granted,
        // a send by a function without a queue policy, an unknown function.
        let missing = template.missing_permissions([
            ("list-products", &query),
            ("get-cart", &scan),
            ("get-cart", &send),
            ("no-such-function", &query),
        ]);
        assert_eq!(
            missing,
            [
                "ListProductsFunction (list-products) needs dynamodb:Query",
                "GetCartFunction (get-cart) needs dynamodb:Scan",
                "GetCartFunction (get-cart) needs sqs:SendMessage",
                "no-such-function: not a function of the template",
            ]
        );
    }

    #[test]
    fn rates_are_read() {
        assert_eq!(rate_secs("rate(1 minute)"), Some(60));
        assert_eq!(rate_secs("rate(5 minutes)"), Some(300));
        assert_eq!(rate_secs("rate(2 hours)"), Some(7200));
        assert_eq!(rate_secs("cron(0 * * * ? *)"), None);
    }
}
