() => {
  // A click on a citation [n] opens source n beside the chat and highlights it; when the
  // citation says which sentences support what it cites (#source-N:START-END,...), those are
  // highlighted in the passage and scrolled into view.
  document.addEventListener("click", (event) => {
    const link = event.target.closest("a.rag-cite");
    if (!link) return;
    event.preventDefault();
    // The chat's sanitizer keeps href but drops data-* attributes.
    const [id, spans] = (link.getAttribute("href") || "").replace("#", "").split(":");
    const card = document.getElementById(id);
    if (!card) return;
    document.querySelectorAll(".rag-source.rag-highlight").forEach((el) => el.classList.remove("rag-highlight"));
    document.querySelectorAll(".rag-evidence-active").forEach((el) => el.classList.remove("rag-evidence-active"));
    card.open = true;
    card.classList.add("rag-highlight");
    const n = id.replace("source-", "");
    const marks = (spans || "").split(",").filter(Boolean)
      .map((span) => document.getElementById(`evidence-${n}-${span}`))
      .filter(Boolean);
    marks.forEach((mark) => mark.classList.add("rag-evidence-active"));
    (marks[0] || card).scrollIntoView({ behavior: "smooth", block: marks.length ? "center" : "nearest" });
  }, true);
}
