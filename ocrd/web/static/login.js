// The sign-in page: carries "next" through the form and says when the token was wrong.

import { setupLanguageButton } from "./i18n.js";

const query = new URLSearchParams(window.location.search);
const target = query.get("next");
if (target && target.startsWith("/") && !target.startsWith("//")) document.getElementById("next").value = target;
document.getElementById("wrong").classList.toggle("hidden", query.get("error") !== "1");
setupLanguageButton();
