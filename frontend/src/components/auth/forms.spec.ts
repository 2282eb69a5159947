import { describe, expect, it } from "vitest";
import { mount } from "@vue/test-utils";
import CodeForm from "./CodeForm.vue";
import NewPasswordForm from "./NewPasswordForm.vue";
import SignInForm from "./SignInForm.vue";
import SignUpForm from "./SignUpForm.vue";

/** The input a label names, as a screen reader finds it. */
function field(wrapper: ReturnType<typeof mount>, label: string) {
  const labelEl = wrapper.findAll("label").find((l) => l.text().trim() === label);
  if (!labelEl) throw new Error(`no label "${label}"`);
  return wrapper.get(`[id="${labelEl.attributes("for")}"]`);
}

describe("the sign-in forms", () => {
  it("sign in sends the username trimmed and the password as typed, with password-manager hints", async () => {
    const wrapper = mount(SignInForm, { props: { busy: false } });
    await field(wrapper, "Username").setValue("  customer ");
    await field(wrapper, "Password").setValue(" Customer-Pass1 ");
    expect(field(wrapper, "Username").attributes("autocomplete")).toBe("username");
    expect(field(wrapper, "Password").attributes("autocomplete")).toBe("current-password");
    await wrapper.get("form").trigger("submit");
    expect(wrapper.emitted("submit")).toEqual([[{ username: "customer", password: " Customer-Pass1 " }]]);
  });

  it("Show password shows it, and hides it again", async () => {
    const wrapper = mount(SignInForm, { props: { busy: false } });
    const password = field(wrapper, "Password");
    expect(password.attributes("type")).toBe("password");
    await wrapper.get("input[type=checkbox]").setValue(true);
    expect(password.attributes("type")).toBe("text");
    await wrapper.get("input[type=checkbox]").setValue(false);
    expect(password.attributes("type")).toBe("password");
  });

  it("while signing in, the button waits and Enter sends nothing more", async () => {
    const wrapper = mount(SignInForm, { props: { busy: true }, attachTo: document.body });
    const button = wrapper.get("button[type=submit]");
    expect(button.attributes("aria-disabled")).toBe("true");
    const click = new MouseEvent("click", { bubbles: true, cancelable: true });
    button.element.dispatchEvent(click);
    expect(click.defaultPrevented).toBe(true);
    wrapper.unmount();
  });

  it("sign up asks for a username, an email and a new password, with the pool's rules described", async () => {
    const wrapper = mount(SignUpForm, { props: { busy: false } });
    await field(wrapper, "Username").setValue("new-shopper");
    await field(wrapper, "Email").setValue(" new@example.com ");
    const password = field(wrapper, "Password");
    await password.setValue("Shopper-Pass1");
    expect(password.attributes("autocomplete")).toBe("new-password");
    const rules = wrapper.get(`[id="${password.attributes("aria-describedby")}"]`);
    expect(rules.text()).toContain("At least 8 characters");
    await wrapper.get("form").trigger("submit");
    expect(wrapper.emitted("submit")).toEqual([
      [{ username: "new-shopper", email: "new@example.com", password: "Shopper-Pass1" }],
    ]);
  });

  it("a code is sent without its spaces, and a new one can be asked for", async () => {
    const wrapper = mount(CodeForm, {
      props: { busy: false, label: "The code we emailed you", submitLabel: "Confirm", canResend: true },
    });
    const code = field(wrapper, "The code we emailed you");
    expect(code.attributes("autocomplete")).toBe("one-time-code");
    expect(code.attributes("inputmode")).toBe("numeric");
    await code.setValue("123 456");
    await wrapper.get("form").trigger("submit");
    expect(wrapper.emitted("submit")).toEqual([["123456"]]);
    await wrapper.findAll("button").find((b) => b.text() === "Send a new code")!.trigger("click");
    expect(wrapper.emitted("resend")).toHaveLength(1);
  });

  it("a new password comes with the emailed code when resetting, alone otherwise", async () => {
    const reset = mount(NewPasswordForm, { props: { busy: false, withCode: true } });
    await field(reset, "The code we emailed you").setValue("654 321");
    await field(reset, "New password").setValue("Renewed-Pass2");
    await reset.get("form").trigger("submit");
    expect(reset.emitted("submit")).toEqual([[{ code: "654321", password: "Renewed-Pass2" }]]);

    const temporary = mount(NewPasswordForm, { props: { busy: false, withCode: false } });
    expect(temporary.findAll("label").map((l) => l.text().trim())).not.toContain("The code we emailed you");
  });
});
