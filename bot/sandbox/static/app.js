// innobridge sandbox page: a Telegram-like private chat that drives the Bot API emulator
// through its JSON control routes (see bot/emulator/control.py for every shape used here).
"use strict";
(() => {
  const CONTROL = "/emulator/_control";
  const ACTIVE_POLL_MS = 700;
  const BACKGROUND_POLL_MS = 3000;
  const FAILING_POLL_MS = 2000; // while the server is away, knock less often
  const MAX_UPLOAD = 50 * 1024 * 1024; // the control route refuses bigger parts
  const STORE_PERSONA = "innobridge.sandbox.persona";
  const STORE_LANG = "innobridge.sandbox.lang";
  // reply-keyboard buttons asking for something the control routes cannot send
  const UNSUPPORTED_REQUESTS = ["request_location", "request_poll", "request_users", "request_chat", "web_app"];

  const STRINGS = {
    zh: {
      title: "innobridge 沙盒", intro: "innobridge 沙盒 — 离线体验：选择一个身份，与机器人对话",
      tour: "导览", choosePersona: "选择身份", send: "发送", placeholder: "输入消息…",
      attach: "发送文件", sendAsFile: "以文件发送", sendAsPhoto: "以图片发送", commands: "常用命令",
      connectionLost: "连接中断，正在重试…", edited: "已编辑", photo: "图片", sticker: "贴纸",
      ok: "确定", failed: "操作失败：", unsupported: "沙盒中不支持此按钮", tooLarge: "文件不能超过 50 MB",
      emptyFile: "文件为空", empty: "还没有消息，发送 /start 开始对话。", youAre: "当前身份",
      unread: "条未读", noPersonas: "没有可用的身份", loading: "正在加载…", switchLang: "切换语言", langButton: "English",
      noCommands: "机器人没有为此身份设置命令",
      skipWeek: "⏩ 8 天后", skipWeekTitle: "沙盒日历前进 8 天：公示期结束、到期事项照常处理",
      skipped: "沙盒日期：", changes: "处理事项：",
    },
    en: {
      title: "innobridge sandbox", intro: "innobridge sandbox — offline: pick a persona and talk to the bot",
      tour: "Tour", choosePersona: "Choose persona", send: "Send", placeholder: "Message…",
      attach: "Send a file", sendAsFile: "Send as file", sendAsPhoto: "Send as photo", commands: "Commands",
      connectionLost: "connection lost, retrying…", edited: "edited", photo: "Photo", sticker: "Sticker",
      ok: "OK", failed: "Failed: ", unsupported: "This button is not available in the sandbox",
      tooLarge: "Files must be at most 50 MB", emptyFile: "The file is empty",
      empty: "No messages yet. Send /start to begin.", youAre: "You are", unread: "unread",
      noPersonas: "No personas available", loading: "Loading…", switchLang: "Switch language", langButton: "中文",
      noCommands: "The bot set no commands for this persona",
      skipWeek: "⏩ 8 days later", skipWeekTitle: "Move the sandbox calendar 8 days on: public notices end, due things are settled",
      skipped: "Sandbox date: ", changes: "changes: ",
    },
  };

  const state = { lang: "zh", personas: [], byId: new Map(), activeId: null, bot: null, failing: false, ready: false };
  const $ = (id) => document.getElementById(id);
  const t = (key) => STRINGS[state.lang][key] ?? key;

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // localStorage throws in some private modes; the page must work without memory
  function readStored(key) { try { return localStorage.getItem(key); } catch { return null; } }
  function writeStored(key, value) { try { localStorage.setItem(key, value); } catch { /* ignore */ } }

  // ---- talking to the server ----------------------------------------------------------

  class ControlError extends Error {
    constructor(status, description) { super(description); this.status = status; }
  }

  // Control routes answer {"ok": true, "result"} or {"ok": false, "description"} (400/404/413).
  // A network error or any 5xx (JSON or not) means "server away": banner, and keep retrying.
  async function request(url, init) {
    let response;
    try {
      response = await fetch(url, init);
    } catch {
      setConnection(false);
      throw new ControlError(0, t("connectionLost"));
    }
    const body = await response.json().catch(() => null);
    if (response.status >= 500) {
      setConnection(false);
      throw new ControlError(response.status, t("connectionLost"));
    }
    setConnection(true);
    if (body === null || typeof body !== "object") throw new ControlError(response.status, `HTTP ${response.status}`);
    if (body.ok === false) throw new ControlError(response.status, body.description || `HTTP ${response.status}`);
    return "result" in body ? body.result : body;
  }

  const control = (path, init) => request(CONTROL + path, init);
  const jsonPost = (data) => ({ method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(data) });
  const fileUrl = (fileId) => `${CONTROL}/files/${encodeURIComponent(fileId)}`;

  function setConnection(ok) {
    if (ok === !state.failing) return;
    state.failing = !ok;
    $("banner").hidden = ok;
    $("banner").textContent = t("connectionLost");
    // The emulator keeps everything in memory: after an outage it may have restarted with
    // fresh message ids and versions, so our cursors mean nothing. Reload every transcript.
    if (ok) state.personas.forEach(resetTranscript);
  }

  // Control routes 404 for unknown users, so make sure each persona exists (POST /users
  // returns the existing user unchanged, so this is safe even when the server created it).
  function ensureUser(persona) {
    if (!persona.userReady) {
      const user = { id: persona.id, first_name: persona.name || `user ${persona.id}`, language_code: persona.language_code || "zh-CN" };
      persona.userReady = control("/users", jsonPost(user)).catch((err) => { persona.userReady = null; throw err; });
    }
    return persona.userReady;
  }

  // ---- per-persona transcript -----------------------------------------------------------

  function makePersona(raw) {
    const log = el("div", "log");
    return { ...raw, id: Number(raw.id), log, messages: new Map(), cursor: 0, loaded: false, generation: 0,
      answersSeen: 0, unread: 0, keyboard: null, polling: null, pollAgain: false, userReady: null, scroll: null };
  }

  function resetTranscript(persona) {
    persona.generation += 1; // a poll already on its way must not apply its stale answer
    persona.messages.clear();
    persona.log.replaceChildren();
    Object.assign(persona, { cursor: 0, loaded: false, answersSeen: 0, keyboard: null, userReady: null });
    if (persona.id === state.activeId) renderReplyKeyboard();
  }

  // One messages request at a time per persona; a poll asked for meanwhile runs right after,
  // so the effect of an action is never missed.
  function poll(persona) {
    if (persona.polling) { persona.pollAgain = true; return persona.polling; }
    persona.polling = (async () => {
      try {
        do {
          persona.pollAgain = false;
          await ensureUser(persona);
          const generation = persona.generation;
          const result = await control(`/chats/${persona.id}/messages?after=${persona.cursor}`);
          if (generation === persona.generation) applyMessages(persona, result);
          else persona.pollAgain = true;
        } while (persona.pollAgain);
      } catch (err) {
        if (err.status === 404) persona.userReady = null; // the user is gone: create it again next time
      } finally {
        persona.polling = null;
      }
    })();
    return persona.polling;
  }

  function applyMessages(persona, result) {
    const firstLoad = !persona.loaded;
    const active = persona.id === state.activeId;
    const stick = active && (firstLoad || isNearBottom());
    for (const id of result.deleted || []) removeMessage(persona, id);
    for (const message of result.messages || []) {
      const isNew = !persona.messages.has(message.message_id);
      upsertMessage(persona, message);
      if (isNew && message.from_bot && !firstLoad && !active) persona.unread += 1;
    }
    persona.cursor = Math.max(persona.cursor, Number(result.cursor) || 0);
    persona.keyboard = result.reply_keyboard || null;
    // callback_answers is the chat's whole history of answers with no ids, so count what we saw;
    // old answers (first load, or while this persona was in the background) are not replayed
    const answers = result.callback_answers || [];
    if (active && !firstLoad) answers.slice(persona.answersSeen).forEach(showCallbackAnswer);
    persona.answersSeen = answers.length;
    persona.loaded = true;
    renderBadge(persona);
    if (active) {
      renderReplyKeyboard();
      if (stick) scrollToBottom();
    }
  }

  function upsertMessage(persona, message) {
    const known = persona.messages.get(message.message_id);
    if (known && known.data.version >= message.version) return; // nothing changed
    const node = renderMessage(persona, message);
    if (known) known.node.replaceWith(node); // an edit keeps its place
    else insertInOrder(persona.log, message.message_id, node);
    persona.messages.set(message.message_id, { data: message, node });
  }

  function removeMessage(persona, messageId) {
    const known = persona.messages.get(messageId);
    if (known) known.node.remove();
    persona.messages.delete(messageId);
  }

  function insertInOrder(log, messageId, node) {
    // new messages nearly always go last, so walk back from the end
    let before = log.lastElementChild;
    while (before && Number(before.dataset.messageId) > messageId) before = before.previousElementSibling;
    if (before) before.after(node);
    else log.prepend(node);
  }

  // ---- rendering messages -----------------------------------------------------------------

  function renderMessage(persona, m) {
    const wrap = el("div", `msg ${m.from_bot ? "from-bot" : "from-user"}`);
    Object.assign(wrap.dataset, { testid: "message", from: m.from_bot ? "bot" : "user", messageId: String(m.message_id) });
    const bubble = el("div", "bubble");
    if (m.reply_to_message_id) bubble.append(renderQuote(persona, m.reply_to_message_id));
    if (m.photo) bubble.append(renderPhoto(m.photo));
    if (m.document) bubble.append(renderDocument(m.document));
    if (m.sticker) bubble.append(el("div", "sticker", m.sticker.emoji || "🖼"), i18nSpan("sticker", "label"));
    if (m.contact) bubble.append(renderContact(m.contact));
    if (m.location) bubble.append(el("div", "attachment", `📍 ${Number(m.location.latitude).toFixed(5)}, ${Number(m.location.longitude).toFixed(5)}`));
    if (m.text) {
      const text = el("div", "text");
      // bot html is re-rendered by the server from entities through a tag whitelist, so it is
      // safe; what the user typed is only ever shown as text
      if (m.from_bot) text.innerHTML = m.html || "";
      else text.textContent = m.text;
      bubble.append(text);
    }
    const meta = el("div", "meta");
    if (m.edit_date) meta.append(i18nSpan("edited"), " ");
    meta.append(formatTime(m.date));
    bubble.append(meta);
    wrap.append(bubble);
    if (m.buttons && m.buttons.length) wrap.append(renderInlineKeyboard(persona, m));
    return wrap;
  }

  function i18nSpan(key, className) {
    const span = el("span", className, t(key));
    span.dataset.i18n = key;
    return span;
  }

  function renderQuote(persona, messageId) {
    const quoted = persona.messages.get(messageId);
    const m = quoted ? quoted.data : {};
    // a caption-less file or a contact has no text: show what it is instead
    const text = m.text || (m.photo && "🖼") || (m.document && `📄 ${m.document.file_name || ""}`) || (m.contact && "👤") || "…";
    return el("div", "quote", text.length > 80 ? `${text.slice(0, 80)}…` : text);
  }

  function renderPhoto(photo) {
    const link = el("a", "photo");
    Object.assign(link, { href: fileUrl(photo.file_id), target: "_blank", rel: "noopener" });
    const img = el("img");
    Object.assign(img, { src: link.href, alt: t("photo"), loading: "lazy" });
    if (photo.width > 0 && photo.height > 0) Object.assign(img, { width: photo.width, height: photo.height });
    link.append(img);
    return link;
  }

  function renderDocument(doc) {
    const box = el("div", "attachment document");
    const link = el("a", "file-name", doc.file_name || "file");
    Object.assign(link, { href: fileUrl(doc.file_id), download: doc.file_name || "" });
    box.append(el("span", "file-icon", "📄"), link, el("span", "file-size", formatSize(doc.file_size)));
    return box;
  }

  function renderContact(contact) {
    const name = [contact.first_name, contact.last_name].filter(Boolean).join(" ");
    const box = el("div", "attachment contact", `👤 ${name}`);
    box.append(el("div", "phone", contact.phone_number || ""));
    return box;
  }

  function renderInlineKeyboard(persona, m) {
    const keyboard = el("div", "inline-keyboard");
    for (const row of m.buttons) {
      const rowNode = el("div", "kb-row");
      for (const spec of row) {
        const button = el("button", "inline-button", spec.text);
        Object.assign(button, { type: "button" });
        button.dataset.testid = "inline-button";
        if (typeof spec.callback_data === "string") {
          button.addEventListener("click", () => pressButton(persona, m.message_id, spec.callback_data, button));
        } else if (spec.url && /^(https?|tg|mailto):/i.test(spec.url)) {
          button.textContent = `${spec.text} ↗`;
          button.addEventListener("click", () => window.open(spec.url, "_blank", "noopener"));
        } else {
          Object.assign(button, { disabled: true, title: t("unsupported") });
        }
        rowNode.append(button);
      }
      keyboard.append(rowNode);
    }
    return keyboard;
  }

  function formatTime(seconds) {
    const d = new Date(Number(seconds) * 1000);
    return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
  }

  function formatSize(bytes) {
    if (!Number.isFinite(bytes)) return "";
    if (bytes < 1024) return `${bytes} B`;
    if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
    return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  }

  // ---- user actions -----------------------------------------------------------------------

  const activePersona = () => state.byId.get(state.activeId) || null;

  // Every action: make sure the user exists, do it, show our own message at once (text,
  // contact and upload routes return it) and poll right away for the bot's reaction.
  async function act(persona, path, init) {
    try {
      await ensureUser(persona);
      const result = await control(`/chats/${persona.id}/${path}`, init);
      if (result && result.message_id !== undefined) {
        upsertMessage(persona, result);
        if (persona.id === state.activeId) scrollToBottom();
      }
      return true;
    } catch (err) {
      showToast(t("failed") + err.message);
      return false;
    } finally {
      poll(persona);
    }
  }

  function sendText(text) {
    const persona = activePersona();
    if (!persona || !text.trim()) return Promise.resolve(false);
    return act(persona, "text", jsonPost({ text }));
  }

  async function pressButton(persona, messageId, callbackData, button) {
    button.classList.add("busy"); // Telegram shows a spinner until the bot reacts
    await act(persona, "press", jsonPost({ message_id: messageId, callback_data: callbackData }));
    button.classList.remove("busy");
  }

  function shareContact() {
    const persona = activePersona();
    // an empty object: the route falls back to the persona's own phone_number
    if (persona) act(persona, "contact", jsonPost({}));
  }

  async function upload(kind, file) {
    const persona = activePersona();
    if (!persona || !file) return;
    if (file.size === 0) return showToast(t("emptyFile"));
    if (file.size > MAX_UPLOAD) return showToast(t("tooLarge"));
    const input = $("chat-input");
    const caption = input.value.trim(); // like Telegram, typed text goes along as the caption
    const form = new FormData();
    form.append("file", file, file.name);
    if (caption) form.append("caption", caption);
    if (await act(persona, kind, { method: "POST", body: form }) && input.value.trim() === caption) {
      input.value = "";
      autosize();
    }
  }

  async function submitComposer() {
    const input = $("chat-input");
    const text = input.value;
    if (!text.trim()) return;
    input.value = "";
    autosize();
    if (!(await sendText(text)) && !input.value) { input.value = text; autosize(); } // keep what failed
  }

  // ---- chrome: personas, keyboard, toasts, menus ---------------------------------------

  function selectPersona(id) {
    const persona = state.byId.get(id);
    if (!persona) return;
    const chat = $("chat");
    const previous = activePersona();
    if (previous) previous.scroll = isNearBottom() ? null : chat.scrollTop;
    // a toast answers what the previous persona did: the next one must not see it as theirs
    if (previous && previous.id !== id) hideToast();
    state.activeId = id;
    writeStored(STORE_PERSONA, String(id));
    persona.unread = 0;
    chat.setAttribute("aria-busy", "true"); // swapping transcripts is not news to announce
    chat.replaceChildren(persona.log);
    if (persona.scroll === null) scrollToBottom(); else chat.scrollTop = persona.scroll;
    chat.setAttribute("aria-busy", "false");
    state.personas.forEach(renderBadge);
    $("persona-select").value = String(id);
    renderSummary();
    renderReplyKeyboard();
    closeMenus();
    poll(persona);
  }

  function renderPersonaList() {
    const list = $("persona-list");
    const select = $("persona-select");
    list.replaceChildren();
    select.replaceChildren();
    if (!state.personas.length) list.append(el("li", "muted", t(state.ready ? "noPersonas" : "loading")));
    for (const persona of state.personas) {
      const button = el("button", "persona");
      button.type = "button";
      button.dataset.testid = `persona-${persona.id}`;
      const badge = el("span", "badge");
      badge.dataset.testid = "unread-badge";
      button.append(el("span", "persona-name", persona.name), badge, el("span", "persona-role", persona.role || ""),
        el("span", "persona-desc", describe(persona)));
      button.addEventListener("click", () => selectPersona(persona.id));
      const item = el("li");
      item.append(button);
      list.append(item);
      persona.entry = button;
      persona.option = el("option");
      persona.option.value = String(persona.id);
      select.append(persona.option);
      renderBadge(persona);
    }
    select.value = String(state.activeId);
  }

  const describe = (p) => (state.lang === "zh" ? p.description_zh || p.description_en : p.description_en || p.description_zh) || "";

  function renderBadge(persona) {
    if (!persona.entry) return;
    const badge = persona.entry.querySelector(".badge");
    badge.hidden = persona.unread === 0;
    badge.textContent = String(persona.unread);
    badge.setAttribute("aria-label", `${persona.unread} ${t("unread")}`);
    persona.entry.setAttribute("aria-current", String(persona.id === state.activeId));
    persona.option.textContent = `${persona.name} · ${persona.role || ""}${persona.unread ? ` (${persona.unread})` : ""}`;
  }

  function renderSummary() {
    const persona = activePersona();
    const summary = $("persona-summary");
    summary.replaceChildren();
    if (!persona) return;
    summary.append(el("span", "", `${t("youAre")}: ${persona.name} · ${persona.role || ""}`),
      el("span", "summary-desc", describe(persona)));
  }

  let shownKeyboard = null; // JSON of what is on screen: rebuilding every poll would steal focus
  function renderReplyKeyboard() {
    const box = $("reply-keyboard");
    const persona = activePersona();
    const rows = (persona && persona.keyboard) || [];
    const signature = JSON.stringify([state.lang, rows]);
    if (signature === shownKeyboard) return;
    shownKeyboard = signature;
    box.replaceChildren();
    box.hidden = rows.length === 0;
    for (const row of rows) {
      const rowNode = el("div", "kb-row");
      for (const raw of row) {
        const spec = typeof raw === "string" ? { text: raw } : raw;
        const button = el("button", "reply-button", spec.text);
        button.type = "button";
        button.dataset.testid = "reply-button";
        if (spec.request_contact) {
          button.classList.add("request-contact");
          button.addEventListener("click", shareContact);
        } else if (UNSUPPORTED_REQUESTS.some((key) => spec[key])) {
          Object.assign(button, { disabled: true, title: t("unsupported") });
        } else {
          button.addEventListener("click", () => sendText(spec.text));
        }
        rowNode.append(button);
      }
      box.append(rowNode);
    }
  }

  let toastTimer = null;
  function showToast(text, alert = false) {
    const box = $("toast");
    $("toast-text").textContent = text;
    box.classList.toggle("alert", alert);
    box.dataset.alert = String(alert);
    box.setAttribute("role", alert ? "alertdialog" : "status");
    $("toast-ok").hidden = !alert;
    box.hidden = false;
    clearTimeout(toastTimer);
    if (alert) $("toast-ok").focus();
    else toastTimer = setTimeout(hideToast, 2600);
  }

  function hideToast() { $("toast").hidden = true; }

  // The sandbox's calendar (bot/sandbox/clock.py): the daily jobs run as of 8 days later.
  async function skipDays(days) {
    try {
      const response = await fetch("/sandbox/clock", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ days }),
      });
      const body = await response.json();
      if (!response.ok) throw new Error(body.error || response.statusText);
      const total = Object.values(body.changes).reduce((a, b) => a + b, 0);
      showToast(`${t("skipped")}${body.date} · ${t("changes")}${total}`);
    } catch (error) {
      showToast(t("failed") + error.message, true);
    }
  }

  function showCallbackAnswer(answer) {
    if (answer && answer.text) showToast(answer.text, Boolean(answer.show_alert));
  }

  function isNearBottom() {
    const chat = $("chat");
    return chat.scrollHeight - chat.scrollTop - chat.clientHeight < 80;
  }

  function scrollToBottom() { $("chat").scrollTop = $("chat").scrollHeight; }

  function autosize() {
    const input = $("chat-input");
    input.style.height = "auto";
    input.style.height = `${Math.min(input.scrollHeight, 160)}px`;
  }

  function closeMenus() {
    for (const [button, menu] of [["attach-button", "attach-menu"], ["command-button", "command-menu"]]) {
      $(menu).hidden = true;
      $(button).setAttribute("aria-expanded", "false");
    }
  }

  function toggleMenu(buttonId, menuId) {
    const opening = $(menuId).hidden;
    closeMenus();
    if (!opening) return;
    $(menuId).hidden = false;
    $(buttonId).setAttribute("aria-expanded", "true");
    const first = $(menuId).querySelector("button");
    if (first) first.focus();
  }

  // The "/" menu lists what the bot set with setMyCommands for this persona (by role and
  // language), as Telegram's menu does; asked for on every opening, since a role can change.
  async function toggleCommandMenu() {
    if (!$("command-menu").hidden) { closeMenus(); return; }
    const persona = activePersona();
    if (!persona) return;
    let commands;
    try {
      await ensureUser(persona);
      commands = await control(`/chats/${persona.id}/commands`);
    } catch (err) {
      showToast(t("failed") + err.message);
      return;
    }
    if (persona !== activePersona()) return; // switched meanwhile: this menu is someone else's
    renderCommandMenu(Array.isArray(commands) ? commands : []);
    toggleMenu("command-button", "command-menu");
  }

  function renderCommandMenu(commands) {
    const menu = $("command-menu");
    menu.replaceChildren();
    if (!commands.length) menu.append(i18nSpan("noCommands", "muted"));
    for (const { command, description } of commands) {
      const item = el("button", "command-item");
      Object.assign(item, { type: "button" });
      item.setAttribute("role", "menuitem");
      item.append(el("code", "", `/${command}`), " ", el("span", "", description || ""));
      item.addEventListener("click", () => {
        $("chat-input").value = `/${command}`;
        closeMenus();
        autosize();
        $("chat-input").focus();
      });
      menu.append(item);
    }
  }

  function applyLanguage(lang) {
    state.lang = STRINGS[lang] ? lang : "zh";
    writeStored(STORE_LANG, state.lang);
    document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
    document.title = t("title");
    // chrome in the page and in the transcripts that are not on screen right now
    const roots = [document, ...state.personas.map((p) => p.log)];
    for (const root of roots) root.querySelectorAll("[data-i18n]").forEach((node) => { node.textContent = t(node.dataset.i18n); });
    state.personas.forEach((p) => { p.log.dataset.empty = t("empty"); });
    const input = $("chat-input");
    input.placeholder = t("placeholder");
    input.setAttribute("aria-label", t("placeholder"));
    for (const [id, key] of [["attach-button", "attach"], ["command-button", "commands"]]) {
      $(id).title = t(key);
      $(id).setAttribute("aria-label", t(key));
    }
    $("lang-toggle").textContent = t("langButton");
    $("lang-toggle").setAttribute("aria-label", t("switchLang"));
    $("clock-skip").title = t("skipWeekTitle");
    $("banner").textContent = t("connectionLost");
    renderPersonaList();
    renderSummary();
    renderReplyKeyboard();
  }

  function wireEvents() {
    $("composer").addEventListener("submit", (event) => { event.preventDefault(); submitComposer(); });
    $("chat-input").addEventListener("input", autosize);
    $("chat-input").addEventListener("keydown", (event) => {
      // Enter sends, Shift+Enter breaks the line; during pinyin (IME) input Enter picks a candidate
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
        event.preventDefault();
        submitComposer();
      }
    });
    $("persona-select").addEventListener("change", (event) => selectPersona(Number(event.target.value)));
    $("lang-toggle").addEventListener("click", () => applyLanguage(state.lang === "zh" ? "en" : "zh"));
    $("clock-skip").addEventListener("click", () => skipDays(8));
    $("attach-button").addEventListener("click", () => toggleMenu("attach-button", "attach-menu"));
    $("command-button").addEventListener("click", () => { toggleCommandMenu(); });
    $("attach-menu").addEventListener("click", (event) => {
      const item = event.target.closest("[data-kind]");
      if (!item) return;
      closeMenus();
      $(`file-${item.dataset.kind}`).click();
    });
    for (const kind of ["document", "photo"]) {
      const picker = $(`file-${kind}`);
      picker.addEventListener("change", () => { upload(kind, picker.files[0]); picker.value = ""; });
    }
    $("toast-ok").addEventListener("click", () => { hideToast(); $("chat-input").focus(); });
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape") { closeMenus(); if (!$("toast-ok").hidden) hideToast(); }
    });
    document.addEventListener("click", (event) => {
      if (event.target instanceof Element && !event.target.closest(".popover-anchor")) closeMenus();
    });
    // spoilers reveal and expandable quotes open on click, as in Telegram
    $("chat").addEventListener("click", (event) => {
      if (!(event.target instanceof Element)) return;
      const spoiler = event.target.closest(".tg-spoiler");
      if (spoiler) spoiler.classList.add("revealed");
      const quote = event.target.closest("blockquote.expandable");
      if (quote) quote.classList.toggle("expanded");
    });
    // last line of defence: a stray rejection must not surface as an uncaught error
    window.addEventListener("unhandledrejection", (event) => { event.preventDefault(); console.warn(event.reason); });
  }

  function loop(task, interval) {
    const tick = async () => {
      try { await task(); } catch (err) { console.warn(err); }
      setTimeout(tick, state.failing ? Math.max(interval, FAILING_POLL_MS) : interval);
    };
    setTimeout(tick, interval);
  }

  async function loadPersonas() {
    for (;;) {
      try {
        return await request("/sandbox/personas.json");
      } catch {
        await new Promise((resolve) => setTimeout(resolve, FAILING_POLL_MS)); // banner is up; retry
      }
    }
  }

  async function start() {
    wireEvents();
    applyLanguage(readStored(STORE_LANG) || "zh");
    const data = await loadPersonas();
    state.bot = data.bot || null;
    state.personas = (data.personas || []).map(makePersona);
    state.personas.forEach((p) => state.byId.set(p.id, p));
    state.ready = true;
    if (state.bot) {
      $("bot-name").textContent = state.bot.username ? `${state.bot.first_name} @${state.bot.username}` : state.bot.first_name;
      $("bot-avatar").textContent = (state.bot.first_name || "i").slice(0, 1).toUpperCase();
    }
    const stored = Number(readStored(STORE_PERSONA));
    state.activeId = state.byId.has(stored) ? stored : state.personas.length ? state.personas[0].id : null;
    applyLanguage(state.lang);
    if (state.activeId !== null) selectPersona(state.activeId);
    // every transcript starts from after=0, so all of them are complete from the start
    state.personas.forEach(poll);
    loop(() => { const p = activePersona(); return p && poll(p); }, ACTIVE_POLL_MS);
    loop(() => Promise.all(state.personas.filter((p) => p.id !== state.activeId).map(poll)), BACKGROUND_POLL_MS);
  }

  start().catch((err) => console.warn(err));
})();
