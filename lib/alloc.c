/* Lock-free bump allocators for selectors, virtual address space and the
 * heap (see <hv/runtime.h>). Nothing is ever freed. */
#include <hv/runtime.h>

static hv_word_t sel_next = HV_SEL_MAX, sel_end = HV_SEL_MAX;
static hv_word_t va_next = HV_SI_FREE_VA, va_end = HV_USER_END;
static hv_word_t heap_next, heap_end;

void hv_alloc_init(hv_sel_t first_sel, hv_word_t first_va, hv_word_t heap_base,
		   hv_word_t heap_size)
{
	__atomic_store_n(&sel_next, first_sel, __ATOMIC_RELAXED);
	__atomic_store_n(&va_next, (first_va + HV_PAGE_SIZE - 1) & ~(HV_PAGE_SIZE - 1),
			 __ATOMIC_RELAXED);
	__atomic_store_n(&heap_end, heap_base + heap_size, __ATOMIC_RELAXED);
	__atomic_store_n(&heap_next, heap_base, __ATOMIC_RELEASE);
}

/* Take [align_up(*next, align), +size) out of [*next, end); returns the
 * base or `fail`. align is a power of two. */
static hv_word_t bump(hv_word_t *next, hv_word_t end, hv_word_t size, hv_word_t align,
		      hv_word_t fail)
{
	hv_word_t cur = __atomic_load_n(next, __ATOMIC_ACQUIRE);

	for (;;) {
		hv_word_t base = (cur + align - 1) & ~(align - 1);

		if (base < cur || base > end || size > end - base)
			return fail;
		if (__atomic_compare_exchange_n(next, &cur, base + size, 0, __ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE))
			return base;
	}
}

hv_sel_t hv_sel_alloc_order(unsigned order)
{
	if (order >= 32)
		return HV_SEL_NONE;
	return bump(&sel_next, sel_end, 1ul << order, 1ul << order, HV_SEL_NONE);
}

hv_sel_t hv_sel_alloc(void)
{
	return hv_sel_alloc_order(0);
}

hv_word_t hv_va_alloc(hv_word_t size)
{
	if (!size || size > va_end)
		return 0;
	size = (size + HV_PAGE_SIZE - 1) & ~(HV_PAGE_SIZE - 1);
	return bump(&va_next, va_end, size, HV_PAGE_SIZE, 0);
}

void *hv_heap_alloc(hv_word_t size, hv_word_t align)
{
	if (!align)
		align = 16;
	if (align & (align - 1))
		return NULL;
	return (void *)bump(&heap_next, heap_end, size, align, 0);
}
