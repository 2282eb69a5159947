// Draws one small SVG picture per seeded product into public/images/products/,
// so the demo shop renders offline: the seed catalog (crates/local/seed/products.json)
// names each picture as /images/products/<productId>.svg. Deterministic: the
// same catalog always draws the same pictures.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const catalog = JSON.parse(readFileSync(join(here, "../../crates/local/seed/products.json"), "utf8"));
const out = join(here, "../public/images/products");
mkdirSync(out, { recursive: true });

// A base hue and a simple glyph per category; unknown categories get a box.
const styles = {
  sweet: { hue: 330, glyph: '<circle cx="200" cy="140" r="48"/><path d="M152 140l-40-28v56zM248 140l40-28v56z"/>' },
  sour: { hue: 70, glyph: '<ellipse cx="200" cy="140" rx="70" ry="52"/><circle cx="272" cy="140" r="10"/>' },
  spicy: { hue: 8, glyph: '<path d="M140 110c40-20 110-10 130 30s-20 70-70 50-70-60-60-80z"/><path d="M266 104l24-20" stroke-width="10"/>' },
  salty: { hue: 40, glyph: '<path d="M200 90c-60 0-80 60-40 90 20 16 60 16 80 0 40-30 20-90-40-90z" fill="none" stroke-width="18"/>' },
  bakery: { hue: 28, glyph: '<path d="M120 170c0-60 40-90 80-90s80 30 80 90z"/><path d="M160 110v50M200 100v60M240 110v50" stroke-width="6"/>' },
  drinks: { hue: 195, glyph: '<path d="M150 80h100l-14 120h-72z"/><path d="M250 110h20a20 20 0 0 1 0 40h-24" fill="none" stroke-width="10"/>' },
};

function hash(text) {
  let h = 2166136261;
  for (const c of text) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  return h;
}

function escapeXml(text) {
  return text.replace(/[<>&'"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", "'": "&apos;", '"': "&quot;" })[c]);
}

for (const product of catalog) {
  const style = styles[product.category] ?? { hue: 220, glyph: '<rect x="140" y="90" width="120" height="100" rx="10"/>' };
  const hue = (style.hue + (hash(product.productId) % 30) - 15 + 360) % 360;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 300" role="img" aria-label="${escapeXml(product.name)}">
<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="hsl(${hue} 70% 88%)"/><stop offset="1" stop-color="hsl(${hue} 60% 72%)"/></linearGradient></defs>
<rect width="400" height="300" fill="url(#g)"/>
<g fill="hsl(${hue} 55% 38%)" stroke="hsl(${hue} 55% 30%)" stroke-linecap="round">${style.glyph}</g>
<text x="200" y="262" text-anchor="middle" font-family="sans-serif" font-size="30" font-weight="600" fill="hsl(${hue} 50% 20%)">${escapeXml(product.name)}</text>
</svg>
`;
  writeFileSync(join(out, `${product.productId}.svg`), svg);
}
console.log(`drew ${catalog.length} product pictures in ${out}`);
