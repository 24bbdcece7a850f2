// The sandbox page: clicks become POSTs to /api/*, the WebSocket brings server-rendered HTML back.
// No framework, no build step. Every piece of HTML inserted here was rendered (and escaped) by
// sandbox/render.py on the server; text from the user is only ever sent, never inserted as HTML.
"use strict";

const people = () => JSON.parse(document.body.dataset.people || "[]");
const statusBox = document.getElementById("status");

function setStatus(text, isError) {
  statusBox.textContent = text;
  statusBox.classList.toggle("error", !!isError);
}

async function post(path, body) {
  const isForm = body instanceof FormData;
  const response = await fetch(path, {
    method: "POST",
    body: isForm ? body : JSON.stringify(body || {}),
    headers: isForm ? {} : { "Content-Type": "application/json" },
  });
  const data = await response.json().catch(() => ({ error: response.statusText }));
  if (!response.ok) {
    setStatus(data.error || "request failed", true);
    throw new Error(data.error || "request failed");
  }
  return data;
}

function chatOf(element) {
  const section = element.closest("section.chat");
  return section ? Number(section.dataset.chat) : null;
}

function scrollDown(section) {
  const box = section.querySelector(".messages");
  box.scrollTop = box.scrollHeight;
}

// --- live updates --------------------------------------------------------------------------

function upsertMessage(chatId, messageId, html) {
  const section = document.getElementById("chat-" + chatId);
  if (!section) return;
  const box = section.querySelector(".messages");
  const template = document.createElement("template");
  template.innerHTML = html;
  const node = template.content.firstElementChild;
  const existing = document.getElementById(node.id);
  if (existing) {
    existing.replaceWith(node);
    return;
  }
  const later = Array.from(box.children).find((el) => Number(el.dataset.mid) > messageId);
  box.insertBefore(node, later || null);
  scrollDown(section);
  if (section.hidden) markUnread(chatId);
}

// In the staff group the page says who acts: the member chosen in the group's composer.
function actingAs(chatId) {
  const section = document.getElementById("chat-" + chatId);
  const select = section && section.querySelector("select[name=as]");
  return select ? Number(select.value) : undefined;
}

function markUnread(chatId) {
  const tab = document.querySelector(`.tab[data-tab="${chatId}"]`);
  if (tab) tab.classList.add("unread");
}

function showToast(chatId, text, alert) {
  const section = document.getElementById("chat-" + chatId);
  if (!section) return;
  const toast = section.querySelector(".toast");
  toast.textContent = text;
  toast.classList.toggle("alert", alert);
  toast.hidden = false;
  clearTimeout(toast._timer);
  toast._timer = setTimeout(() => { toast.hidden = true; }, alert ? 6000 : 3000);
}

function showTyping(chatId) {
  const section = document.getElementById("chat-" + chatId);
  if (!section) return;
  const typing = section.querySelector(".typing");
  typing.hidden = false;
  clearTimeout(typing._timer);
  typing._timer = setTimeout(() => { typing.hidden = true; }, 1500);
}

async function addPersonPanel(person) {
  const list = people();
  if (!list.some((p) => p.id === person.id)) {
    list.push(person);
    document.body.dataset.people = JSON.stringify(list);
  }
  if (document.getElementById("chat-" + person.id)) return;
  const html = await (await fetch("/chat/" + person.id)).text();
  const column = document.querySelector(".column.customers");
  column.insertAdjacentHTML("beforeend", html);
  const tab = document.createElement("button");
  tab.type = "button";
  tab.className = "tab";
  tab.dataset.tab = person.id;
  tab.textContent = person.name;
  document.getElementById("add-customer").before(tab);
  selectTab(person.id);
}

function selectTab(chatId) {
  const section0 = document.getElementById("chat-" + chatId);
  if (!section0) return;
  const column = section0.closest(".column");
  column.querySelectorAll("section.chat").forEach((s) => {
    s.hidden = Number(s.dataset.chat) !== Number(chatId);
  });
  column.querySelectorAll(".tab").forEach((t) => {
    const active = Number(t.dataset.tab) === Number(chatId);
    t.classList.toggle("active", active);
    if (active) t.classList.remove("unread");
  });
  const section = document.getElementById("chat-" + chatId);
  if (section) scrollDown(section);
}

function connect() {
  const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
  ws.onmessage = (message) => {
    const event = JSON.parse(message.data);
    switch (event.type) {
      case "hello":
        if (String(event.generation) !== document.body.dataset.generation) location.reload();
        document.body.classList.add("live");
        break;
      case "message": upsertMessage(event.chat_id, event.message_id, event.html); break;
      case "keyboard": {
        const section = document.getElementById("chat-" + event.chat_id);
        if (section) section.querySelector(".keyboard").innerHTML = event.html;
        break;
      }
      case "toast": showToast(event.chat_id, event.text, event.alert); break;
      case "typing": showTyping(event.chat_id); break;
      case "clock": {
        const label = document.getElementById("clock-label");
        label.textContent = event.clock.label;
        label.dataset.date = event.clock.date;
        limitDatePicker();
        break;
      }
      case "person": addPersonPanel(event.person); break;
      case "reload": location.reload(); break;
    }
  };
  ws.onclose = () => {
    document.body.classList.remove("live");
    setTimeout(connect, 1000);
  };
}

// --- the "open as…" menu for deep links and photos ------------------------------------------

const menu = document.getElementById("menu");

// items: [{label, data: {...}, pick: () => ...}]
function openMenu(anchor, title, items) {
  menu.replaceChildren();
  const head = document.createElement("div");
  head.className = "menu-title";
  head.textContent = title;
  menu.append(head);
  for (const entry of items) {
    const item = document.createElement("button");
    item.type = "button";
    Object.assign(item.dataset, entry.data || {});
    item.textContent = entry.label;
    item.addEventListener("click", () => { menu.hidden = true; entry.pick(); });
    menu.append(item);
  }
  const rect = anchor.getBoundingClientRect();
  menu.style.left = Math.max(0, Math.min(rect.left, window.innerWidth - 320)) + "px";
  menu.hidden = false;
  const below = rect.bottom + window.scrollY + 4;
  const fits = rect.bottom + menu.offsetHeight + 8 < window.innerHeight;
  menu.style.top = (fits ? below : Math.max(0, rect.top + window.scrollY - menu.offsetHeight - 4)) + "px";
}

function asPeople(onPick) {
  return people().map((person) => ({
    label: person.label, data: { as: person.role, chat: person.id }, pick: () => onPick(person.id),
  }));
}

document.addEventListener("click", (event) => {
  const target = event.target;
  if (!menu.hidden && !menu.contains(target)) menu.hidden = true;

  const tab = target.closest(".tab");
  if (tab) return selectTab(tab.dataset.tab);
  if (target.id === "add-customer") return post("/api/customers", {}).catch(() => {});

  const deeplink = target.closest("a.deeplink");
  if (deeplink) {
    event.preventDefault();
    event.stopPropagation();
    const payload = deeplink.dataset.start;
    return openMenu(deeplink, "Открыть ссылку как…", asPeople((chatId) => {
      post("/api/start", { chat_id: chatId, payload }).catch(() => {});
      selectChat(chatId);
    }));
  }
  const forward = target.closest("a.forward");
  if (forward) {
    event.preventDefault();
    event.stopPropagation();
    const fromChat = chatOf(forward);
    return openMenu(forward, "Отправить фото от имени…", asPeople((chatId) => {
      post("/api/forward", { chat_id: chatId, from_chat_id: fromChat, message_id: Number(forward.dataset.mid) })
        .catch(() => {});
      selectChat(chatId);
    }));
  }
  const commands = target.closest("button.commands");
  if (commands) {
    const chatId = chatOf(commands);
    const list = JSON.parse(commands.dataset.commands || "[]");
    return openMenu(commands, list.length ? "Команды бота" : "Бот не задал команд", list.map((c) => ({
      label: `${c.command} — ${c.description}`,
      pick: () => post("/api/send", { chat_id: chatId, text: c.command }).catch(() => {}),
    })));
  }
  const command = target.closest("a.command");
  if (command) {
    event.preventDefault();
    return post("/api/send", { chat_id: chatOf(command), text: command.dataset.command }).catch(() => {});
  }
  const button = target.closest("button[data-action]");
  if (button) {
    const chatId = chatOf(button);
    const row = Number(button.dataset.row), col = Number(button.dataset.col);
    if (button.dataset.action === "press") {
      const messageId = Number(button.closest(".msg").dataset.mid);
      return post("/api/press", { chat_id: chatId, message_id: messageId, row, col, as: actingAs(chatId) })
        .catch(() => {});
    }
    return post("/api/key", { chat_id: chatId, row, col }).catch(() => {});
  }
  const days = target.closest("#clock button[data-days]");
  if (days) return moveClock({ days: Number(days.dataset.days) });
});

function selectChat(chatId) {
  if (document.querySelector(`.tab[data-tab="${chatId}"]`)) selectTab(chatId);
}

async function moveClock(body) {
  const buttons = document.querySelectorAll("#clock button");
  buttons.forEach((b) => { b.disabled = true; });
  setStatus("Двигаю время и запускаю задачи планировщика…");
  try {
    const data = await post("/api/clock", body);
    const jobs = Object.entries(data.summary.jobs).map(([name, n]) => `${name}×${n}`).join(", ");
    const failed = data.summary.failed.length ? ` · ошибки: ${data.summary.failed.join("; ")}` : "";
    setStatus(`Время: ${data.clock.label}. Задачи: ${jobs || "нет"}${failed}`, data.summary.failed.length > 0);
  } catch (e) {
    /* status already shows the error */
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
  }
}

document.getElementById("clock").addEventListener("submit", (event) => {
  event.preventDefault();
  const value = event.target.elements.date.value;
  if (value) moveClock({ date: value });
});

document.getElementById("reset").addEventListener("submit", (event) => {
  event.preventDefault();
  const program = event.target.elements.program.value;
  if (!confirm(`Начать заново с пустой базой и программой ${program}?`)) return;
  setStatus("Сбрасываю…");
  post("/api/reset", { program }).catch(() => {});
});

document.addEventListener("submit", (event) => {
  const form = event.target.closest("form.composer");
  if (!form) return;
  event.preventDefault();
  const input = form.elements.text;
  const text = input.value.trim();
  if (!text) return;
  post("/api/send", { chat_id: chatOf(form), text, as: actingAs(chatOf(form)) }).then(() => { input.value = ""; }).catch(() => {});
});

document.addEventListener("change", (event) => {
  const input = event.target;
  if (input.name !== "photo" || !input.files.length) return;
  const form = new FormData();
  form.append("chat_id", chatOf(input));
  form.append("photo", input.files[0]);
  const as = actingAs(chatOf(input));
  if (as) form.append("as", as);
  post("/api/photo", form).catch(() => {}).finally(() => { input.value = ""; });
});

// A photo grows the chat when it loads: keep the newest message in view.
document.addEventListener("load", (event) => {
  if (event.target.tagName !== "IMG") return;
  const section = event.target.closest("section.chat");
  if (section && !section.hidden) scrollDown(section);
}, true);

// Time only moves forward: the date picker starts at tomorrow (business time).
function limitDatePicker() {
  const today = document.getElementById("clock-label").dataset.date;
  const next = new Date(today + "T12:00:00Z");
  next.setUTCDate(next.getUTCDate() + 1);
  document.querySelector("#clock input[name=date]").min = next.toISOString().slice(0, 10);
}

limitDatePicker();
document.querySelectorAll("section.chat").forEach(scrollDown);
connect();
