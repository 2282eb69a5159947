// The local stack's stand-in for Stripe.js (https://js.stripe.com/v3/),
// served by localstripe_loopback.py at /js.stripe.com/v3/: the part of its
// API the storefront uses, against localstripe. Stripe() takes the
// publishable key; elements().create("card") is a card form (number, expiry,
// CVC) in the page instead of Stripe's iframe; confirmCardPayment() confirms
// a PaymentIntent with the card as Stripe.js does, and shows a 3-D Secure
// challenge when the card asks for one. localstripe's own script does not
// send the card when confirming, so this one replaces it.
(function () {
  "use strict";
  const base = document.currentScript.src.replace(/\/js\.stripe\.com\/v3\/?$/, "");

  function post(path, fields) {
    // Form-encoded: a simple cross-origin request (no preflight), as Stripe.js sends.
    const body = new URLSearchParams(fields);
    return fetch(base + path, { method: "POST", body }).then((response) =>
      response.json().then((json) => ({ ok: response.ok && !json.error, json })),
    );
  }

  function field(label, name, size, autocomplete) {
    const wrapper = document.createElement("label");
    wrapper.className = "stripe-local-field";
    wrapper.textContent = label + " ";
    const input = document.createElement("input");
    input.name = name;
    input.size = size;
    input.inputMode = "numeric";
    input.autocomplete = autocomplete;
    input.setAttribute("data-stripe", name);
    wrapper.appendChild(input);
    return { wrapper, input };
  }

  class CardElement {
    constructor() {
      this.handlers = {};
      this.nodes = [];
      this.inputs = {};
    }
    mount(target) {
      const host = typeof target === "string" ? document.querySelector(target) : target;
      const fields = [
        ["Card number", "number", 19, "cc-number"],
        ["MM / YY", "expiry", 5, "cc-exp"],
        ["CVC", "cvc", 4, "cc-csc"],
      ];
      for (const [label, name, size, autocomplete] of fields) {
        const { wrapper, input } = field(label, name, size, autocomplete);
        input.addEventListener("input", () => this.emit("change", { complete: this.complete(), empty: false }));
        this.inputs[name] = input;
        this.nodes.push(wrapper);
        host.appendChild(wrapper);
      }
      this.emit("ready", {});
    }
    card() {
      const [month, year] = (this.inputs.expiry.value || "").split("/").map((s) => s.trim());
      return {
        number: (this.inputs.number.value || "").replace(/\s+/g, ""),
        exp_month: month || "",
        exp_year: year || "",
        cvc: (this.inputs.cvc.value || "").trim(),
      };
    }
    complete() {
      const card = this.card();
      return card.number.length === 16 && card.exp_month && card.exp_year && card.cvc.length === 3;
    }
    on(event, handler) {
      (this.handlers[event] = this.handlers[event] || []).push(handler);
    }
    emit(event, payload) {
      (this.handlers[event] || []).forEach((handler) => handler(payload));
    }
    focus() {
      if (this.inputs.number) this.inputs.number.focus();
    }
    unmount() {
      this.nodes.forEach((node) => node.remove());
      this.nodes = [];
    }
    destroy() {
      this.unmount();
    }
  }

  /** The 3-D Secure challenge: resolves true (authenticated) or false. */
  function challenge() {
    return new Promise((resolve) => {
      const dialog = document.createElement("dialog");
      dialog.setAttribute("aria-label", "3-D Secure (test)");
      dialog.setAttribute("data-stripe", "challenge");
      const text = document.createElement("p");
      text.textContent = "3-D Secure test: authenticate this payment?";
      const yes = document.createElement("button");
      yes.textContent = "Complete authentication";
      const no = document.createElement("button");
      no.textContent = "Fail authentication";
      const done = (answer) => {
        dialog.close();
        dialog.remove();
        resolve(answer);
      };
      yes.addEventListener("click", () => done(true));
      no.addEventListener("click", () => done(false));
      dialog.addEventListener("cancel", () => done(false));
      dialog.append(text, yes, no);
      document.body.appendChild(dialog);
      dialog.showModal();
    });
  }

  window.Stripe = function (publishableKey) {
    return {
      elements() {
        let card = null;
        return {
          create(type) {
            if (type !== "card") throw new Error("the local Stripe.js has the card element only");
            card = card || new CardElement();
            return card;
          },
          getElement() {
            return card;
          },
        };
      },
      async confirmCardPayment(clientSecret, data) {
        const intentId = clientSecret.split("_secret_")[0];
        const element = data && data.payment_method && data.payment_method.card;
        const fields = { key: publishableKey, client_secret: clientSecret };
        if (element instanceof CardElement) {
          const card = element.card();
          fields["payment_method_data[type]"] = "card";
          for (const name of ["number", "exp_month", "exp_year", "cvc"]) {
            fields[`payment_method_data[card][${name}]`] = card[name];
          }
        }
        let answer = await post(`/v1/payment_intents/${intentId}/confirm`, fields);
        if (!answer.ok) return { error: answer.json.error || { message: "The payment failed." } };
        if (answer.json.status === "requires_action") {
          const success = await challenge();
          answer = await post(`/v1/payment_intents/${intentId}/_authenticate?success=${success}`, {
            key: publishableKey,
            client_secret: clientSecret,
          });
          if (!answer.ok) return { error: answer.json.error || { message: "Authentication failed." } };
          if (answer.json.status !== "succeeded") {
            return {
              error: {
                code: "payment_intent_authentication_failure",
                message: "We could not authenticate your payment method.",
                payment_intent: answer.json,
              },
            };
          }
        }
        return { paymentIntent: answer.json };
      },
    };
  };
})();
