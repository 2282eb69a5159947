//! Writes the `api_event` target's seeds from the events SAM invokes the
//! functions with (`events/<handler>.json`): each seed is the endpoint's
//! place in `Endpoint::ALL` (the byte the target picks an endpoint by) and
//! the event, so a new endpoint's event is a seed with nothing to copy.
//!
//!   cargo run --bin seeds [EVENTS_DIR] [SEEDS_DIR]   (default ../events, seeds/api_event)

use std::path::PathBuf;

fn main() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let events = PathBuf::from(args.next().unwrap_or_else(|| "../events".into()));
    let seeds = PathBuf::from(args.next().unwrap_or_else(|| "seeds/api_event".into()));
    std::fs::create_dir_all(&seeds).map_err(|e| format!("{}: {e}", seeds.display()))?;
    for (place, endpoint) in shop::inbound::http::Endpoint::ALL.iter().enumerate() {
        let name = endpoint.handler_name();
        let event = events.join(format!("{name}.json"));
        let mut seed = vec![u8::try_from(place).map_err(|_| "more than 256 endpoints")?];
        seed.extend(std::fs::read(&event).map_err(|e| format!("{}: {e}", event.display()))?);
        std::fs::write(seeds.join(name), seed).map_err(|e| format!("{name}: {e}"))?;
    }
    println!("{} seeds in {}", shop::inbound::http::Endpoint::ALL.len(), seeds.display());
    Ok(())
}
