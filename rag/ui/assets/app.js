() => {
  // A click on a citation [n] in an answer opens and highlights source n beside the chat.
  document.addEventListener("click", (event) => {
    const link = event.target.closest("a.rag-cite");
    if (!link) return;
    event.preventDefault();
    // The chat's sanitizer keeps href but drops data-* attributes.
    const card = document.getElementById((link.getAttribute("href") || "").replace("#", ""));
    if (!card) return;
    document.querySelectorAll(".rag-source.rag-highlight").forEach((el) => el.classList.remove("rag-highlight"));
    card.open = true;
    card.classList.add("rag-highlight");
    card.scrollIntoView({ behavior: "smooth", block: "nearest" });
  }, true);
}
