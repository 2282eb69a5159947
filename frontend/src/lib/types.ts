// The API's shapes, as openapi.yaml declares them.

export interface Product {
  productId: string;
  category: string;
  name: string;
  description: string;
  /** cents */
  price: number;
  pictures: string[];
  tags: string[];
  package?: { height: number; length: number; weight: number; width: number };
  createdDate?: string;
  modifiedDate?: string;
  /** A hot product's stock split into shards (absent: one). */
  stockShards?: { active: number; items: number };
}

/** A product's reviews summed up: `histogram[0]` one-star reviews … `histogram[4]` five-star. */
export interface Rating {
  average: number | null;
  count: number;
  histogram: number[];
}

/** A product as the lists and the product page show it. */
export interface RatedProduct extends Product {
  rating: Rating;
}

export interface StockLevels {
  available: number;
  /** Admins only: the full counters. */
  reserved?: number;
  sold?: number;
  added?: number;
}

export interface ProductDetail extends RatedProduct {
  stock: StockLevels;
  inCarts: number;
}

export interface ProductPage {
  products: RatedProduct[];
  nextCursor?: string;
}

export interface BestSeller extends RatedProduct {
  unitsSold: number;
}

export interface CartLine {
  /** the product id (the sample's name for it) */
  sk: string;
  quantity: number;
  productDetail: Product;
}

export type OrderStatus = "PENDING_PAYMENT" | "PAID" | "CANCELLED" | "EXPIRED" | "REFUNDED";

export interface OrderLine {
  productId: string;
  name: string;
  quantity: number;
  unitPrice: number;
}

export interface Order {
  orderId: string;
  status: OrderStatus;
  lines: OrderLine[];
  total: number;
  createdAt: number;
  updatedAt: number;
  /** epoch seconds */
  expiresAt: number;
  chargeId?: string;
  failureReason?: string;
}

export interface ShortLine {
  productId: string;
  requested: number;
  available: number;
}

/** A review: plain text, shown as text. */
export interface Review {
  reviewId: string;
  productId: string;
  rating: number;
  title: string;
  body: string;
  displayName: string;
  /** epoch seconds */
  createdAt: number;
  editedAt?: number;
  verifiedPurchase: boolean;
}

export interface ReviewInput {
  rating: number;
  title: string;
  body: string;
  displayName?: string;
}

export interface ReviewPage {
  reviews: Review[];
  nextCursor?: string;
  /** Signed in, bought it and not reviewed it yet. */
  canReview: boolean;
  yourReview?: Review;
}
