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
  if (document.getElementById("chat-" + person.id)) return;
  const staff = person.role === "cashier";
  const column = document.querySelector(staff ? ".column.staff" : ".column.customers");
  column.insertAdjacentHTML("beforeend", html);
  const tab = document.createElement("button");
  tab.type = "button";
  tab.className = "tab";
  tab.dataset.tab = person.id;
  tab.textContent = person.name;
  document.getElementById(staff ? "group-tab" : "add-customer").before(tab);
  selectTab(person.id);
}

// --- the business clock: the server's time at the last sync, ticking here in between ------------

const clockLabel = document.getElementById("clock-label");
const clockState = { base: Date.parse(clockLabel.dataset.iso), at: Date.now(), tz: clockLabel.dataset.tz };
const WEEKDAYS = ["вс", "пн", "вт", "ср", "чт", "пт", "сб"];

function businessParts(moment) {
  const parts = {};
  new Intl.DateTimeFormat("en-GB", {
    timeZone: clockState.tz, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit",
    minute: "2-digit", weekday: "short", hourCycle: "h23",
  }).formatToParts(moment).forEach((p) => { parts[p.type] = p.value; });
  return parts;
}

function renderClock() {
  const p = businessParts(new Date(clockState.base + (Date.now() - clockState.at)));
  const weekday = WEEKDAYS[["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"].indexOf(p.weekday)];
  const text = `${weekday} ${p.day}.${p.month}.${p.year} ${p.hour}:${p.minute}`;
  if (clockLabel.textContent !== text) clockLabel.textContent = text;
  const date = `${p.year}-${p.month}-${p.day}`;
  if (clockLabel.dataset.date !== date) {
    clockLabel.dataset.date = date;
    limitDatePicker();
  }
  document.querySelectorAll(".db-today").forEach((el) => { el.textContent = date; });
}

function syncClock(clock) {
  clockState.base = Date.parse(clock.iso);
  clockState.at = Date.now();
  clockState.tz = clock.tz;
  renderClock();
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
        // Another server instance (restarted) or another database (reset while away): the chats
        // on this page are gone, so load them again.
        if (String(event.generation) !== document.body.dataset.generation
            || event.instance !== document.body.dataset.instance) {
          setStatus("Песочница перезапущена — загружаю чаты заново…");
          location.reload();
          return;
        }
        if (event.clock) syncClock(event.clock);
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
      case "clock": syncClock(event.clock); break;
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

// A link someone new follows (a friend's referral, a campaign, a staff invite): a new person for it.
async function newPerson(role) {
  const data = await post("/api/customers", { role });
  await addPersonPanel(data.person);
  return data.person.id;
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
    const follow = (chatId) => {
      post("/api/start", { chat_id: chatId, payload }).catch(() => {});
      selectChat(chatId);
    };
    const role = payload.startsWith("staff_") ? "cashier" : "customer";
    const fresh = {
      label: role === "cashier" ? "+ новый сотрудник" : "+ новый клиент", data: { as: "new" },
      pick: () => newPerson(role).then(follow).catch(() => {}),
    };
    return openMenu(deeplink, `Открыть ?start=${payload} как… (отправит /start ${payload})`,
      [fresh, ...asPeople(follow)]);
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
  if (input.name === "document" && input.files.length) return attachFile(input);
  if (input.name !== "photo" || !input.files.length) return;
  const form = new FormData();
  form.append("chat_id", chatOf(input));
  form.append("photo", input.files[0]);
  const as = actingAs(chatOf(input));
  if (as) form.append("as", as);
  post("/api/photo", form).catch(() => {}).finally(() => { input.value = ""; });
});

// 📎: the file goes to the bot as a Telegram document (an import's CSV/XLSX, a program's TOML).
function attachFile(input) {
  const form = new FormData();
  const chatId = chatOf(input);
  form.append("chat_id", chatId);
  form.append("document", input.files[0], input.files[0].name);
  const as = actingAs(chatId);
  if (as) form.append("as", as);
  const caption = input.closest("form.composer").elements.text;
  if (caption.value.trim()) form.append("caption", caption.value.trim());
  post("/api/document", form).then(() => { caption.value = ""; }).catch(() => {})
    .finally(() => { input.value = ""; });
}

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
renderClock();
setInterval(renderClock, 1000);
document.querySelectorAll("section.chat").forEach(scrollDown);
connect();
