// ESLint: eslint-plugin-vue's recommended rules and typescript-eslint's, for
// the storefront, its unit and browser tests (`make lint`, `npm run lint`).
import { defineConfigWithVueTs, vueTsConfigs } from "@vue/eslint-config-typescript";
import pluginVue from "eslint-plugin-vue";
import globals from "globals";

export default defineConfigWithVueTs(
  { ignores: ["dist/**", "lighthouse/**", "src/lib/api-types.ts", "public/**"] },
  pluginVue.configs["flat/recommended"],
  vueTsConfigs.recommended,
  {
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      // Prettier-like layout is not enforced: the recommended rules are about meaning.
      "vue/max-attributes-per-line": "off",
      "vue/singleline-html-element-content-newline": "off",
      "vue/multiline-html-element-content-newline": "off",
      "vue/html-self-closing": "off",
      "vue/html-closing-bracket-newline": "off",
      "vue/html-indent": "off",
      "vue/first-attribute-linebreak": "off",
    },
  },
  {
    files: ["e2e/**", "scripts/**", "bench/**", "*.config.ts", "*.config.mjs"],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    // The browser tests read whatever JSON the API or Cognito answered to set a scene.
    files: ["e2e/**"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
);
