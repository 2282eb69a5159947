// The API's shapes, generated from openapi.yaml into api-types.ts
// (`npm run api-types`; `make lint` fails when the two are out of step).
// Here they get the names the storefront uses.
import type { components, paths } from "./api-types";

type Schemas = components["schemas"];

export type Product = Schemas["Product"];
export type Rating = Schemas["Rating"];
export type RatedProduct = Schemas["RatedProduct"];
export type ProductDetail = Schemas["ProductDetail"];
export type ProductPage = Schemas["ProductPage"];
export type NewProduct = Schemas["NewProduct"];
export type ProductChanges = Schemas["ProductChanges"];
/** What a shopper sees of the stock; admins also get the full counters. */
export type StockLevels = ProductDetail["stock"];
export type CartLine = Schemas["CartLine"];
export type Order = Schemas["Order"];
export type OrderStatus = Order["status"];
export type OrderLine = Schemas["OrderLine"];
/** A review: plain text, shown as text. */
export type Review = Schemas["Review"];
export type ReviewInput = Schemas["ReviewInput"];

type Method = "get" | "post" | "put" | "delete";
type JsonOf<R> = R extends { content: { "application/json": infer T } } ? T : never;
type Success<Op> = Op extends { responses: infer R } ? JsonOf<R[Extract<keyof R, 200 | 201>]> : never;

/** The JSON a route answers on success, as openapi.yaml declares it. */
export type Answer<P extends keyof paths, M extends Method & keyof paths[P]> = Success<paths[P][M]>;

export type BestSeller = Answer<"/bestsellers", "get">["products"][number];
export type ReviewPage = Answer<"/product/{product_id}/reviews", "get">;

/** A line checkout could not reserve (the 409's `shortLines`). */
export interface ShortLine {
  productId: string;
  requested: number;
  available: number;
}
