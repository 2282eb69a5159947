/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import vue from "@vitejs/plugin-vue";

// One build serves every environment: settings come from /config.json at run
// time (written by the local stack, or by `make deploy-frontend` on AWS).
export default defineConfig({
  plugins: [vue()],
  build: {
    target: "es2022",
    // The first page must stay small: Amplify (lib/amplify.ts), the sign-in
    // and admin screens load only when needed.
    chunkSizeWarningLimit: 200,
  },
  test: {
    environment: "happy-dom",
    // Unit tests of lib/ and stores/ in tests/unit; component specs beside their components.
    include: ["tests/unit/**/*.spec.ts", "src/**/*.spec.ts"],
  },
});
